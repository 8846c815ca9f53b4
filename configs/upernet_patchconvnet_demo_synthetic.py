# The embedded default of `make demo`: a small UperNet + PatchConvNet trained from
# scratch on the synthetic ADE20k-format set (tools/make_demo_data.py --task ade20k)
# on a 2-core CPU. Same pipeline and components as the ADE20k configs, scaled down.
_base_ = [
    './_base_/models/upernet_isotropic.py', './_base_/datasets/ade20k_512.py',
    './_base_/schedules/upernet_160k.py', './_base_/default_runtime_seg.py'
]
data_root = 'data/synthetic_ade20k'
# The synthetic classes carry the first ten ADE20k names (see mmvision_ext.datasets.synthetic).
metainfo = dict(classes=('wall', 'building', 'sky', 'floor', 'tree', 'ceiling', 'road', 'bed ',
                         'windowpane', 'grass'))
num_classes = 10
crop_size = (128, 128)
norm_cfg = dict(type='BN', requires_grad=True)  # single process on a CPU: no SyncBN
width = 128
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(
        type='PatchConvNet',
        arch=dict(patch_size=16, embed_dims=width, depth=8, layer_scale_init=0.1),
        out_indices=(-1,), drop_path_rate=0.0),
    neck=dict(in_channels=width, num_inputs=1, norm_cfg=norm_cfg),
    # Most pixels of the synthetic scenes are "other" (ignored): average the loss over
    # labelled pixels only, or the gradients shrink with the background's share.
    decode_head=dict(in_channels=[width] * 4, channels=32, num_classes=num_classes,
                     norm_cfg=norm_cfg, dropout_ratio=0.0,
                     loss_decode=dict(avg_non_ignore=True)),
    auxiliary_head=dict(in_channels=width, channels=32, num_classes=num_classes,
                        norm_cfg=norm_cfg, dropout_ratio=0.0,
                        loss_decode=dict(avg_non_ignore=True)))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='RandomResize', scale=(256, 128), ratio_range=(0.75, 1.5), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(256, 128), keep_ratio=True),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=8, num_workers=2,
    dataset=dict(data_root=data_root, metainfo=metainfo, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1, num_workers=2,
    dataset=dict(data_root=data_root, metainfo=metainfo, pipeline=test_pipeline))
test_dataloader = val_dataloader

max_iters = 1500
optim_wrapper = dict(optimizer=dict(lr=2e-3, weight_decay=0.01))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=100),
    dict(type='PolyLR', power=1.0, eta_min=0.0, by_epoch=False, begin=100, end=max_iters),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=max_iters, max_keep_ckpts=1))
env_cfg = dict(cudnn_benchmark=False, dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0)
