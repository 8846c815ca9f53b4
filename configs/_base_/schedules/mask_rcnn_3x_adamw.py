# The 3x schedule of the thesis' Mask R-CNN (§5.3.3, Table 5.6): AdamW lr 1e-4, wd 0.05 (none on norms and
# embeddings), 36 epochs with steps at 27 and 33, 500-iteration linear warm-up,
# 16 images per step (2 per GPU x 8 GPUs; --auto-scale-lr for other counts).
_base_ = ['mmdet::_base_/schedules/schedule_1x.py']
max_epochs = 36
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=[27, 33],
         gamma=0.1),
]
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(_delete_=True, type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
    constructor='LayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(
        layer_decay_rate=1.0,
        norm_decay_mult=0.0,
        custom_keys={
            'pos_embed': dict(decay_mult=0.0),
            'cls_token': dict(decay_mult=0.0),
            'dist_token': dict(decay_mult=0.0),
            'norm': dict(decay_mult=0.0),
        }),
)
auto_scale_lr = dict(enable=False, base_batch_size=16)
