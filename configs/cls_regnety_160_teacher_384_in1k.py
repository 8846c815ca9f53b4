# DeiT's RegNetY-16GF teacher at 384 for the distilled fine-tunings at 384 (thesis 3.3,
# "fine-tuning with distillation": a teacher at the target resolution, obtained from the
# 224 one by FixRes [199]). The same network; its weights, the FixRes fine-tuning of
# regnety_160_teacher_in1k.pth at 384, go to
# $MMVX_CHECKPOINTS/regnety_160_teacher_384_in1k.pth.
_base_ = ['./cls_regnety_160_teacher_in1k.py']
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeCenterCrop', crop_size=384, crop_ratio=0.875),
    dict(type='PackInputs'),
]
val_dataloader = dict(batch_size=64, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
