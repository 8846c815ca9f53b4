_base_ = [
    './_base_/models/cls_deit3.py', './_base_/datasets/imagenet_224.py',
    './_base_/schedules/cls_adamw_cosine.py', './_base_/default_runtime_cls.py'
]
model = dict(
    backbone=dict(arch='t', drop_path_rate=0.0),
    head=dict(in_channels=192))
