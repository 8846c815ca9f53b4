# DeiT III's ImageNet-1k recipe (thesis Table 6.1): LAMB lr 3e-3 at batch 2048
# (8 GPUs x 256), weight decay 0.02, 400 epochs (800 for the long schedule), 5 warm-up
# epochs; RandomResizedCrop, 3-Augment (one of grayscale / solarisation / blur),
# colour jitter 0.3, flip; Mixup 0.8 / CutMix 1.0 without label smoothing; binary
# cross-entropy on the 0/1 targets; repeated augmentation; gradient clipping 1.0;
# crop ratio 1.0.
_base_ = ['./deit_in1k.py']

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale={{_base_.img_size}}, backend='pillow',
         interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='ThreeAugment'),
    dict(type='ColorJitter', brightness=0.3, contrast=0.3, saturation=0.3),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeCenterCrop', crop_size={{_base_.img_size}}, crop_ratio=1.0),
    dict(type='PackInputs'),
]
data_preprocessor = dict(random_erasing=None, mixup=dict(label_smoothing=0.0))
train_dataloader = dict(batch_size=256, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

max_epochs = 400
optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='TimmLamb', lr=3e-3, weight_decay=0.02),
    clip_grad=dict(max_norm=1.0))
train_cfg = dict(max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=2048)
