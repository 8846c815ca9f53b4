# DeiT III ViT-B fine-tuned on CIFAR-100 (thesis Table 6.11: 92.5 % top-1). DeiT III's
# ImageNet recipe with the transfer rule of section 3.7.1.3 (the thesis gives none for
# DeiT III): learning rate / 100, 1000 epochs, at 224. CIFAR's 32-pixel arrays go through
# the same pipelines, after LoadImageFromFile. Data: data/cifar100/cifar-100-python/ (the
# python version).
_base_ = ['./cls_deit3_b_in1k.py']
# The ImageNet model, all but its classifier (whose shape differs).
load_from = '{{$MMVX_CHECKPOINTS:checkpoints}}/deit3_b_in1k.pth'
dataset = dict(type='CIFAR100Python', data_root='data/cifar100')
model = dict(head=dict(num_classes=100))
data_preprocessor = dict(num_classes=100)
# drop_last=False: on 8 GPUs Flowers' 2,040 images are less than one ImageNet batch.
train_dataloader = dict(drop_last=False, dataset=dict(
    _delete_=True, **dataset, split='train', pipeline=_base_.train_pipeline[1:]))
val_dataloader = dict(dataset=dict(
    _delete_=True, **dataset, split='test', pipeline=_base_.test_pipeline[1:]))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=_base_.optim_wrapper.optimizer.lr / 100))
train_cfg = dict(max_epochs=1000)
