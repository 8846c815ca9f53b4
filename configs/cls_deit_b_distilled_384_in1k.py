# Distilled DeiT-B fine-tuned at 384 (thesis Table 3.3, "DeiT⚗ class+distillation",
# B↑384: 84.5 top-1): from the distilled 224 model, DeiT's fine-tuning at 384, both the
# labels and the teacher's hard decisions, the teacher at 384 (section 3.3).
_base_ = ['./_base_/models/cls_deit.py', './_base_/recipes/deit_ft384_in1k.py']
model = dict(
    type='DistilledImageClassifier',
    teacher=dict(config='{{fileDirname}}/cls_regnety_160_teacher_384_in1k.py',
                 checkpoint='{{$MMVX_CHECKPOINTS:checkpoints}}/regnety_160_teacher_384_in1k.pth'),
    distillation='hard',
    alpha=0.5,
    backbone=dict(img_size=384, arch='b', drop_path_rate=0.1, distilled=True),
    head=dict(_delete_=True, type='DistilledClsHead', num_classes=1000, in_channels=768,
        loss=dict(type='TimmLoss', name='SoftTargetCrossEntropy')))
load_from = '{{$MMVX_CHECKPOINTS:checkpoints}}/deit_b_distilled_in1k.pth'
