# DeiT III's ImageNet-21k pre-training (thesis Table 6.1, "ImNet-21k Pretrain." column;
# section 6.3.6): 90 epochs at 224, LAMB lr 3e-3 at batch 2048 (8 GPUs x 256), weight
# decay 0.02, 5 warm-up epochs, cosine; Simple Random Crop instead of RandomResizedCrop,
# 3-Augment, colour jitter 0.3, flip; CutMix 1.0 without Mixup, label smoothing 0.1,
# cross-entropy (not BCE); no repeated augmentation; gradient clipping 1.0.
#
# Data: ImageNet-21k as its releases unpack, data/imagenet21k/train/<synset>/*.JPEG,
# read through the file list that tools/dataset_converters/imagenet21k_file_list.py
# writes once (data/imagenet21k/meta/{train,classes}.txt). No validation split: the
# pre-training is judged by its ImageNet-1k fine-tuning (cls_*_in21k_ft_in1k.py).
_base_ = ['./deit3_in1k.py']

# fall11, the release of the thesis and of the released checkpoints; winter21: 19167.
num_classes = 21841
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='SimpleRandomCrop', size={{_base_.img_size}}),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='ThreeAugment'),
    dict(type='ColorJitter', brightness=0.3, contrast=0.3, saturation=0.3),
    dict(type='PackInputs'),
]
data_preprocessor = dict(
    num_classes=num_classes,
    mixup=dict(_delete_=True, mixup_alpha=0.0, cutmix_alpha=1.0, prob=1.0, switch_prob=0.5,
               label_smoothing=0.1))
train_dataloader = dict(
    dataset=dict(_delete_=True, type='ImageNet21kFileList', data_root='data/imagenet21k',
                 pipeline=train_pipeline),
    sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True))
val_dataloader = None
val_evaluator = None
val_cfg = None
test_dataloader = None
test_evaluator = None
test_cfg = None
# The configs set the head: num_classes and cross-entropy in place of DeiT III's BCE.
ce_loss = dict(_delete_=True, type='TimmLoss', name='SoftTargetCrossEntropy')
max_epochs = 90
train_cfg = dict(max_epochs=max_epochs)
