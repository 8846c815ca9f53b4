# DeiT III ViT-B fine-tuned on Stanford Cars (thesis Table 6.11: 93.4 % top-1). DeiT III's
# ImageNet recipe with the transfer rule of section 3.7.1.3 (the thesis gives none for
# DeiT III): learning rate / 10, 1000 epochs, at 224. Data: data/stanford_cars/ in
# mmpretrain's StanfordCars layout.
_base_ = ['./cls_deit3_b_in1k.py']
# The ImageNet model, all but its classifier (whose shape differs).
load_from = '{{$MMVX_CHECKPOINTS:checkpoints}}/deit3_b_in1k.pth'
dataset = dict(type='StanfordCars', data_root='data/stanford_cars')
model = dict(head=dict(num_classes=196))
data_preprocessor = dict(num_classes=196)
# drop_last=False: on 8 GPUs Flowers' 2,040 images are less than one ImageNet batch.
train_dataloader = dict(drop_last=False, dataset=dict(
    _delete_=True, **dataset, split='train', pipeline=_base_.train_pipeline))
val_dataloader = dict(dataset=dict(
    _delete_=True, **dataset, split='test', pipeline=_base_.test_pipeline))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=_base_.optim_wrapper.optimizer.lr / 10))
train_cfg = dict(max_epochs=1000)
