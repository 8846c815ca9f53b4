_base_ = [
    './_base_/models/cls_cait.py', './_base_/datasets/imagenet_224.py',
    './_base_/schedules/cls_adamw_cosine.py', './_base_/default_runtime_cls.py'
]
model = dict(
    backbone=dict(arch='m36', drop_path_rate=0.3),
    head=dict(in_channels=768, num_heads=16, layer_scale_init=1e-06))
