# DeiT III's fine-tuning at 384 after ImageNet-1k pre-training (thesis section 6.3.6):
# DeiT's fine-tuning procedure with lr 1e-5 at batch 512 (8 GPUs x 64), weight decay 0.1,
# 20 epochs, no repeated augmentation; the pre-training augmentation and loss kept;
# crop ratio 1.0.
_base_ = ['./deit3_in1k.py']

img_size = 384
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=img_size, backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='ThreeAugment'),
    dict(type='ColorJitter', brightness=0.3, contrast=0.3, saturation=0.3),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeCenterCrop', crop_size=img_size, crop_ratio=1.0),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=64, dataset=dict(pipeline=train_pipeline),
    sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True))
val_dataloader = dict(batch_size=64, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

max_epochs = 20
optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='AdamW', lr=1e-5, weight_decay=0.1, betas=(0.9, 0.999)))
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True, begin=0, end=max_epochs)]
train_cfg = dict(max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=512)
