# Grafit, ResNet-50, ImageNet-1k coarse-to-fine: trained on the 127 coarse WordNet
# classes of Huh et al. (2016), evaluated on the 1000 classes. Thesis Table 2.7: kNN
# top-1 69.1, mAP 39.4 (cosine) / 42.9 (ψ_cond) / 47.2 (oracle). T = 4 views at 224
# (section 2.5.1). The coarse map, one line per ImageNet class holding its coarse class
# index, goes to data/imagenet/meta/coarse127.txt. The memory holds 1,281,167 x 256
# floats (1.3 GB) on each GPU and in every checkpoint.
_base_ = ['./grafit_resnet50_cifar100.py']
data_root = 'data/imagenet'
coarse_map = 'data/imagenet/meta/coarse127.txt'
num_views = 4
img_size = 224
view_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=img_size, backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='TimmRandAugment', policy='rand-m9-mstd0.5-inc1', img_size=img_size),
    dict(type='RandomErasing', erase_prob=0.25, mode='rand'),
]
pack = dict(type='PackInputs', algorithm_keys=('coarse_label', 'fine_label'))
test_pipeline = [dict(type='LoadImageFromFile'),
                 dict(type='ResizeCenterCrop', crop_size=img_size, crop_ratio=0.875), pack]
dataset = dict(type='ImageNetTwoLevel', data_root=data_root, coarse_map=coarse_map,
               label_level='coarse')
train_dataloader = dict(dataset=dict(
    _delete_=True, split='train', **dataset,
    pipeline=[dict(type='MultiView', num_views=num_views, transforms=[view_pipeline]), pack]))
# Each query is ranked against the 1.28 M memory entries: 64 queries per GPU at a time.
val_dataloader = dict(batch_size=64, dataset=dict(_delete_=True, split='val', **dataset,
                                                  pipeline=test_pipeline))
test_dataloader = val_dataloader
data_preprocessor = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])
model = dict(backbone=dict(_delete_=True, type='ResNet', depth=50),
             num_train=1281167, num_coarse=127, num_fine=1000)
