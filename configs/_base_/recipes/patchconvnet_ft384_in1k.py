# PatchConvNet's fine-tuning at 384 (thesis section 5.2.3): from the 224 model, the
# training augmentation kept (its recipe is DeiT's without random erasing), lr 1e-5 at
# batch 1024 (8 GPUs x 128), weight decay 0.01, 10 epochs at a constant lr; crop ratio
# 0.875. The thesis does not name the optimizer of this stage: AdamW here (LAMB's
# layer-wise trust ratio makes 1e-5 a no-op).
_base_ = ['./deit_ft384_in1k.py']

data_preprocessor = dict(random_erasing=None)
train_pipeline = [  # the pre-training's augmentation (RandAugment m7/0.5), at 384
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale={{_base_.img_size}}, backend='pillow',
         interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='TimmRandAugment', policy='rand-m7-mstd0.5-inc1', img_size={{_base_.img_size}}),
    dict(type='PackInputs'),
]
train_dataloader = dict(batch_size=128, dataset=dict(pipeline=train_pipeline))

max_epochs = 10
optim_wrapper = dict(optimizer=dict(lr=1e-5, weight_decay=0.01))
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True, begin=0, end=max_epochs)]
train_cfg = dict(max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=1024)
