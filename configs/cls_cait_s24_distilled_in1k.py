# CaiT-S-24Υ (thesis T3.15): hard distillation from DeiT's RegNetY-16GF teacher
# without a distillation token (section 3.7: with class attention one gains nothing,
# T3.14); the class output learns the labels and the teacher's decision, 1/2 each.
# The released CaiT models are these.
_base_ = ['./cls_cait_s24_in1k.py']
model = dict(
    type='DistilledImageClassifier',
    teacher=dict(config='{{fileDirname}}/cls_regnety_160_teacher_in1k.py',
                 checkpoint='{{$MMVX_CHECKPOINTS:checkpoints}}/regnety_160_teacher_in1k.pth'),
    distillation='hard')
