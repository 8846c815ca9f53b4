# CaiT-S36 fine-tuned on iNaturalist 2019 (thesis Table 3.19: 80.6 % top-1). CaiT's
# ImageNet recipe with the transfer rule of section 3.7.1.3: learning rate / 10, 360
# epochs, at 224. Data: data/inat2019/ with train2019.json, val2019.json and
# train_val2019/.
_base_ = ['./cls_cait_s36_in1k.py']
# The ImageNet model, all but its classifier (whose shape differs).
load_from = '{{$MMVX_CHECKPOINTS:checkpoints}}/cait_s36_in1k.pth'
dataset = dict(type='INaturalist', data_root='data/inat2019')
model = dict(head=dict(num_classes=1010))
data_preprocessor = dict(num_classes=1010)
# drop_last=False: on 8 GPUs Flowers' 2,040 images are less than one ImageNet batch.
train_dataloader = dict(drop_last=False, dataset=dict(
    _delete_=True, **dataset, ann_file='train2019.json', pipeline=_base_.train_pipeline))
# Table 3.19 evaluates at crop ratio 0.875 (CaiT's ImageNet recipe: 1.0).
test_pipeline = [_base_.test_pipeline[0], dict(_base_.test_pipeline[1], crop_ratio=0.875),
                 _base_.test_pipeline[2]]
val_dataloader = dict(dataset=dict(
    _delete_=True, **dataset, ann_file='val2019.json', pipeline=test_pipeline))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=_base_.optim_wrapper.optimizer.lr / 10))
train_cfg = dict(max_epochs=360)
