# ResMLP-S24 distilled (thesis T4.3): chapter 3's hard distillation from the
# RegNetY-16GF teacher with ResMLP's own recipe (section 4.3.1); ResMLP has no tokens,
# so its one output learns the labels and the teacher's decision, 1/2 each.
_base_ = ['./cls_resmlp_s24_in1k.py']
model = dict(
    type='DistilledImageClassifier',
    teacher=dict(config='{{fileDirname}}/cls_regnety_160_teacher_in1k.py',
                 checkpoint='{{$MMVX_CHECKPOINTS:checkpoints}}/regnety_160_teacher_in1k.pth'),
    distillation='hard')
