# PatchConvNet's recipe (thesis section 5.2.3): LAMB lr 3e-3 at batch 2048 (8 GPUs x
# 256), weight decay 0.05 (0.01 for the S models, set in their configs), 400 epochs;
# RandomResizedCrop, timm RandAugment m7/0.5, Mixup 0.8 / CutMix 1.0, label smoothing 0.1,
# repeated augmentation, no random erasing; crop ratio 0.875.
_base_ = ['./deit_in1k.py']

data_preprocessor = dict(random_erasing=None)
# "The RandAugment variant by Wightman et al." (section 5.2.3): magnitude 7, std 0.5
# (thesis Table 6.1, Wightman et al.'s column), where DeiT's is 9/0.5.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale={{_base_.img_size}}, backend='pillow',
         interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='TimmRandAugment', policy='rand-m7-mstd0.5-inc1', img_size={{_base_.img_size}}),
    dict(type='PackInputs'),
]
train_dataloader = dict(batch_size=256, dataset=dict(pipeline=train_pipeline))

max_epochs = 400
optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='TimmLamb', lr=3e-3, weight_decay=0.05))
train_cfg = dict(max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=2048)
