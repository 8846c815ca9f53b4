# DeiT's recipe (thesis Table 3.9; ../../../docs/recipes.md): 300 epochs, AdamW
# lr 5e-4 x batch/512 (1e-3 at the 1024 of 8 GPUs x 128), wd 0.05, 5 warm-up epochs
# then cosine; RandomResizedCrop, RandAugment m9/0.5, random erasing 0.25,
# Mixup 0.8 / CutMix 1.0 with label smoothing 0.1 (soft-target CE), repeated
# augmentation x3; test crop ratio 0.875. `--auto-scale-lr` rescales the lr from
# the 1024-image batch for another GPU count.
_base_ = ['../datasets/imagenet_224.py', '../default_runtime_cls.py']

img_size = 224
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
data_preprocessor = dict(
    random_erasing=dict(probability=0.25, mode='pixel', max_count=1),
    mixup=dict(mixup_alpha=0.8, cutmix_alpha=1.0, prob=1.0, switch_prob=0.5,
               label_smoothing=0.1),
)
train_dataloader = dict(
    batch_size=128,
    dataset=dict(pipeline=train_pipeline),
    sampler=dict(_delete_=True, type='RepeatAugSampler', num_repeats=3, shuffle=True),
)
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

max_epochs = 300
warmup_epochs = 5
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05, betas=(0.9, 0.999), eps=1e-8),
    # As timm: no weight decay on 1-D parameters (biases, norms, LayerScale, affines)
    # nor on the tokens and position embeddings.
    paramwise_cfg=dict(
        flat_decay_mult=0.0,
        custom_keys={
            '.cls_token': dict(decay_mult=0.0),
            '.dist_token': dict(decay_mult=0.0),
            '.pos_embed': dict(decay_mult=0.0),
        }),
)
# The cosine ends with the run: mmengine's runner sets a scheduler's unset ``end`` to
# train_cfg.max_epochs, so recipes that train longer only set max_epochs.
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True, begin=warmup_epochs,
         convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=1024)
