_base_ = ['./_base_/models/cls_deit.py', './_base_/recipes/deit_in1k.py']
# DeiT distillation through the distillation token (thesis 3.3), hard labels of a
# RegNetY-16GF teacher (docs/recipes.md: distillation); inference fuses both heads.
model = dict(
    type='DistilledImageClassifier',
    teacher=dict(config='{{fileDirname}}/cls_regnety_160_teacher_in1k.py',
                 checkpoint='{{$MMVX_CHECKPOINTS:checkpoints}}/regnety_160_teacher_in1k.pth'),
    distillation='hard',
    alpha=0.5,
    backbone=dict(arch='b', drop_path_rate=0.1, distilled=True),
    head=dict(_delete_=True, type='DistilledClsHead', num_classes=1000, in_channels=768,
        loss=dict(type='TimmLoss', name='SoftTargetCrossEntropy')))
