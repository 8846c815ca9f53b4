# DeiT III's ImageNet-21k -> ImageNet-1k fine-tuning (thesis Table 6.1, "ImNet-21k
# Finetune." column; section 6.3.6): 50 epochs at 224, LAMB lr 3e-4 at batch 2048,
# weight decay 0.02, 5 warm-up epochs, cosine; Simple Random Crop, 3-Augment, colour
# jitter 0.3, flip; CutMix 1.0 without Mixup, label smoothing 0.1, cross-entropy; no
# repeated augmentation; gradient clipping 1.0; test crop ratio 1.0. The backbone starts
# from the 21k pre-training (cls_deit3_<arch>_in21k.py), the 1000-class head from scratch.
_base_ = ['./deit3_in1k.py']

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='SimpleRandomCrop', size={{_base_.img_size}}),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='ThreeAugment'),
    dict(type='ColorJitter', brightness=0.3, contrast=0.3, saturation=0.3),
    dict(type='PackInputs'),
]
data_preprocessor = dict(
    mixup=dict(_delete_=True, mixup_alpha=0.0, cutmix_alpha=1.0, prob=1.0, switch_prob=0.5,
               label_smoothing=0.1))
train_dataloader = dict(
    dataset=dict(pipeline=train_pipeline),
    sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True))
# The configs set the head's loss: cross-entropy in place of DeiT III's BCE.
ce_loss = dict(_delete_=True, type='TimmLoss', name='SoftTargetCrossEntropy')
max_epochs = 50
optim_wrapper = dict(optimizer=dict(lr=3e-4))
train_cfg = dict(max_epochs=max_epochs)
