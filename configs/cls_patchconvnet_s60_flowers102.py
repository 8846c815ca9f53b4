# PatchConvNet-S60 fine-tuned on Oxford Flowers-102 (thesis Table 5.5: 98.8 % top-1).
# PatchConvNet's ImageNet recipe with the transfer rule of section 3.7.1.3 (5.3.2: "the
# procedure used in Chapter 3"): learning rate / 10, 1000 epochs, at 224. Data:
# data/flowers102/ with jpg/, imagelabels.mat and setid.mat.
_base_ = ['./cls_patchconvnet_s60_in1k.py']
# The ImageNet model, all but its classifier (whose shape differs).
load_from = '{{$MMVX_CHECKPOINTS:checkpoints}}/patchconvnet_s60_in1k.pth'
dataset = dict(type='Flowers102', data_root='data/flowers102')
model = dict(head=dict(num_classes=102))
data_preprocessor = dict(num_classes=102)
# drop_last=False: on 8 GPUs Flowers' 2,040 images are less than one ImageNet batch.
train_dataloader = dict(drop_last=False, dataset=dict(
    _delete_=True, **dataset, split='trainval', pipeline=_base_.train_pipeline))
val_dataloader = dict(dataset=dict(
    _delete_=True, **dataset, split='test', pipeline=_base_.test_pipeline))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=_base_.optim_wrapper.optimizer.lr / 10))
train_cfg = dict(max_epochs=1000)
