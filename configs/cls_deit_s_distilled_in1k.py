_base_ = [
    './_base_/models/cls_deit.py', './_base_/datasets/imagenet_224.py',
    './_base_/schedules/cls_adamw_cosine.py', './_base_/default_runtime_cls.py'
]
model = dict(
    backbone=dict(arch='s', drop_path_rate=0.1, distilled=True),
    head=dict(_delete_=True, type='DistilledClsHead', num_classes=1000, in_channels=384,
        loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1)))
