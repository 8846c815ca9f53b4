# Transfer of a Grafit trunk pre-trained on ImageNet to a fine-grained dataset (thesis
# 2.4.6 / 2.5.4): the trunk f_θ is kept, the projector discarded; a classifier on it, a
# linear one (FC) or an MLP (two linear layers with batch norm and ReLU between), and
# the whole network fine-tuned 240 epochs, cosine lr from 0.01, batch 512 (8 GPUs x 64).
# The thesis does not restate the optimizer and augmentation of this stage: its SGD
# with Nesterov momentum and its augmentation (random resized crop, RandAugment,
# random erasing; 2.4.3) are used; 224 center-crop evaluation.
# GRAFIT_CHECKPOINT names the ImageNet Grafit checkpoint.
_base_ = ['../default_runtime_cls.py']
grafit_checkpoint = '{{$GRAFIT_CHECKPOINT:work_dirs/grafit_resnet50_in1k_coarse127/epoch_600.pth}}'
num_classes = 102
model = dict(
    type='ImageClassifier',
    backbone=dict(type='ResNet', depth=50,
                  init_cfg=dict(type='Pretrained', checkpoint=grafit_checkpoint,
                                prefix='backbone.')),
    neck=dict(type='GlobalAveragePooling'),
    # The MLP classifier (Table 2.16); `head=dict(_delete_=True, type='LinearClsHead',
    # num_classes=..., in_channels=2048)` gives the FC one.
    head=dict(type='StackedLinearClsHead', num_classes=num_classes, in_channels=2048,
              mid_channels=[2048], norm_cfg=dict(type='BN1d'), act_cfg=dict(type='ReLU'),
              loss=dict(type='CrossEntropyLoss'), topk=(1, 5)))
data_preprocessor = dict(num_classes=num_classes, mean=[123.675, 116.28, 103.53],
                         std=[58.395, 57.12, 57.375], to_rgb=True)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224, backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='TimmRandAugment', policy='rand-m9-mstd0.5-inc1', img_size=224),
    dict(type='RandomErasing', erase_prob=0.25, mode='rand'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeCenterCrop', crop_size=224, crop_ratio=0.875),
    dict(type='PackInputs'),
]
train_dataloader = dict(batch_size=64, num_workers=8, persistent_workers=True, drop_last=True,
                        dataset=dict(pipeline=train_pipeline),
                        sampler=dict(type='DefaultSampler', shuffle=True))
val_dataloader = dict(batch_size=64, num_workers=8, persistent_workers=True,
                      dataset=dict(pipeline=test_pipeline),
                      sampler=dict(type='DefaultSampler', shuffle=False))
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, 5))
test_evaluator = val_evaluator
max_epochs = 240
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9, nesterov=True,
                                    weight_decay=1e-4))
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=True, begin=0, eta_min=0.0)]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=10)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=512)
