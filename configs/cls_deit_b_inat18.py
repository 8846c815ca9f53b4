# DeiT-B fine-tuned on iNaturalist 2018 (thesis Table 3.7: 73.2 % top-1). DeiT's ImageNet
# recipe with the transfer rule of section 3.7.1.3 (the thesis gives none for DeiT):
# learning rate / 10, 360 epochs, at 224. Data: data/inat2018/ with train2018.json,
# val2018.json and train_val2018/.
_base_ = ['./cls_deit_b_in1k.py']
# The ImageNet model, all but its classifier (whose shape differs).
load_from = '{{$MMVX_CHECKPOINTS:checkpoints}}/deit_b_in1k.pth'
dataset = dict(type='INaturalist', data_root='data/inat2018')
model = dict(head=dict(num_classes=8142))
data_preprocessor = dict(num_classes=8142)
# drop_last=False: on 8 GPUs Flowers' 2,040 images are less than one ImageNet batch.
train_dataloader = dict(drop_last=False, dataset=dict(
    _delete_=True, **dataset, ann_file='train2018.json', pipeline=_base_.train_pipeline))
val_dataloader = dict(dataset=dict(
    _delete_=True, **dataset, ann_file='val2018.json', pipeline=_base_.test_pipeline))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=_base_.optim_wrapper.optimizer.lr / 10))
train_cfg = dict(max_epochs=360)
