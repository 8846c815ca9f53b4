# CaiT's recipe (thesis section 3.7): DeiT's, trained 400 epochs, evaluated with
# crop ratio 1.0 (thesis Table 3.22).
_base_ = ['./deit_in1k.py']

test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeCenterCrop', crop_size={{_base_.img_size}}, crop_ratio=1.0),
    dict(type='PackInputs'),
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

max_epochs = 400
train_cfg = dict(max_epochs=max_epochs)
