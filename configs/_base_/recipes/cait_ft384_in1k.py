# CaiT's fine-tuning at 384 (thesis section 3.7, "↑384"): DeiT's procedure, evaluated
# with crop ratio 1.0 (thesis Table 3.22).
_base_ = ['./deit_ft384_in1k.py']

test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeCenterCrop', crop_size={{_base_.img_size}}, crop_ratio=1.0),
    dict(type='PackInputs'),
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
