_base_ = [
    './_base_/models/cls_resmlp.py', './_base_/datasets/imagenet_224.py',
    './_base_/schedules/cls_adamw_cosine.py', './_base_/default_runtime_cls.py'
]
model = dict(
    backbone=dict(arch='s24', drop_path_rate=0.1),
    head=dict(in_channels=384))
