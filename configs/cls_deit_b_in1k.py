_base_ = [
    './_base_/models/cls_deit.py', './_base_/datasets/imagenet_224.py',
    './_base_/schedules/cls_adamw_cosine.py', './_base_/default_runtime_cls.py'
]
model = dict(
    backbone=dict(arch='b', drop_path_rate=0.1),
    head=dict(in_channels=768))
