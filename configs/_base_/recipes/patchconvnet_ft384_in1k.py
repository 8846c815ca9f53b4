# PatchConvNet's fine-tuning at 384 (thesis section 5.2.3): from the 224 model, the
# training augmentation kept, lr 1e-5 at batch 1024 (8 GPUs x 128), weight decay 0.01,
# 10 epochs at a constant lr; crop ratio 0.875. The thesis does not name the optimizer
# of this stage: AdamW here (LAMB's layer-wise trust ratio makes 1e-5 a no-op).
_base_ = ['./patchconvnet_in1k.py']

img_size = 384
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=img_size, backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='TimmRandAugment', policy='rand-m9-mstd0.5-inc1', img_size=img_size),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeCenterCrop', crop_size=img_size, crop_ratio=0.875),
    dict(type='PackInputs'),
]
train_dataloader = dict(batch_size=128, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=64, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

max_epochs = 10
optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='AdamW', lr=1e-5, weight_decay=0.01, betas=(0.9, 0.999)))
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True, begin=0, end=max_epochs)]
train_cfg = dict(max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=1024)
