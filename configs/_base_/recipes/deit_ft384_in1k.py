# DeiT's fine-tuning at 384 (thesis section 3.8, "DeiT-B↑384"): from the 224 model
# (position embeddings resized bicubically on load), the training augmentation kept,
# AdamW lr 5e-6 at batch 512 (8 GPUs x 64), weight decay 1e-8, 25 epochs at a constant
# lr (section 3.4.5: 20 hours on 8 GPUs for DeiT-B, "which corresponds to 25 epochs");
# crop ratio 0.875.
_base_ = ['./deit_in1k.py']

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
train_dataloader = dict(batch_size=64, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=64, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

max_epochs = 25
optim_wrapper = dict(optimizer=dict(lr=5e-6, weight_decay=1e-8))
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True, begin=0, end=max_epochs)]
train_cfg = dict(max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=512)
