# DeiT with "usual" soft distillation (thesis eq. 3.2, Table 3.3: 72.2 top-1): no
# distillation token; the class output learns the labels and the RegNetY-16GF teacher's
# softened scores, tau 3.0 and lambda 0.1 (section 3.4.5), on DeiT's recipe. Table 3.3
# marks the row "label ✗"; eq. 3.2 with section 3.4.5's lambda weighs the labels 0.9,
# which this follows.
_base_ = ['./cls_deit_t_in1k.py']
model = dict(
    type='DistilledImageClassifier',
    teacher=dict(config='{{fileDirname}}/cls_regnety_160_teacher_in1k.py',
                 checkpoint='{{$MMVX_CHECKPOINTS:checkpoints}}/regnety_160_teacher_in1k.pth'),
    distillation='soft', tau=3.0, alpha=0.1)
