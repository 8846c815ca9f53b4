# PatchConvNet-S60 fine-tuned on CIFAR-10 (thesis Table 5.5: 99.2 % top-1). PatchConvNet's
# ImageNet recipe with the transfer rule of section 3.7.1.3 (5.3.2: "the procedure used in
# Chapter 3"): learning rate / 100, 1000 epochs, at 224. CIFAR's 32-pixel arrays go
# through the same pipelines, after LoadImageFromFile. Data:
# data/cifar10/cifar-10-batches-py/ (the python version).
_base_ = ['./cls_patchconvnet_s60_in1k.py']
# The ImageNet model, all but its classifier (whose shape differs).
load_from = '{{$MMVX_CHECKPOINTS:checkpoints}}/patchconvnet_s60_in1k.pth'
dataset = dict(type='CIFAR10Python', data_root='data/cifar10')
model = dict(head=dict(num_classes=10))
data_preprocessor = dict(num_classes=10)
# drop_last=False: on 8 GPUs Flowers' 2,040 images are less than one ImageNet batch.
train_dataloader = dict(drop_last=False, dataset=dict(
    _delete_=True, **dataset, split='train', pipeline=_base_.train_pipeline[1:]))
val_dataloader = dict(dataset=dict(
    _delete_=True, **dataset, split='test', pipeline=_base_.test_pipeline[1:]))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=_base_.optim_wrapper.optimizer.lr / 100))
train_cfg = dict(max_epochs=1000)
