# DeiT III ViT-B fine-tuned on Oxford Flowers-102 (thesis Table 6.11: 98.6 % top-1). DeiT
# III's ImageNet recipe with the transfer rule of section 3.7.1.3 (the thesis gives none
# for DeiT III): learning rate / 10, 1000 epochs, at 224. Data: data/flowers102/ with
# jpg/, imagelabels.mat and setid.mat.
_base_ = ['./cls_deit3_b_in1k.py']
# The ImageNet model, all but its classifier (whose shape differs).
load_from = '{{$MMVX_CHECKPOINTS:checkpoints}}/deit3_b_in1k.pth'
dataset = dict(type='Flowers102', data_root='data/flowers102')
model = dict(head=dict(num_classes=102))
data_preprocessor = dict(num_classes=102)
# drop_last=False: on 8 GPUs Flowers' 2,040 images are less than one ImageNet batch.
train_dataloader = dict(drop_last=False, dataset=dict(
    _delete_=True, **dataset, split='trainval', pipeline=_base_.train_pipeline))
val_dataloader = dict(dataset=dict(
    _delete_=True, **dataset, split='test', pipeline=_base_.test_pipeline))
test_dataloader = val_dataloader
# Section 6.3.5.1: on Flowers only the attention layers are fine-tuned (with the
# new classifier and, as the official code's --attn-only, the position embedding);
# a zero learning rate keeps every other weight as it is (their gradients still
# count in the clipping norm, which the official code's frozen weights do not).
optim_wrapper = dict(optimizer=dict(lr=_base_.optim_wrapper.optimizer.lr / 10),
    paramwise_cfg=dict(custom_keys={
        key: dict(lr_mult=0.0, decay_mult=0.0) for key in (
            'backbone.patch_embed', 'backbone.cls_token', '.gamma_', '.norm',
            '.mlp.')}))
train_cfg = dict(max_epochs=1000)
