# PatchConvNet's ImageNet-21k pre-training (thesis section 5.2.3, "Training on
# ImageNet21k"): 90 epochs, LAMB lr 3e-3 at batch 2048 (4e-3 at 4096), weight decay 0.01;
# the rest of the ImageNet-1k recipe (RandomResizedCrop, RandAugment m7/0.5, Mixup 0.8 /
# CutMix 1.0, label smoothing 0.1) but no repeated augmentation ("only when training
# with" ImageNet-1k).
#
# Data: ImageNet-21k as its releases unpack, data/imagenet21k/train/<synset>/*.JPEG,
# through the file list that tools/dataset_converters/imagenet21k_file_list.py writes
# once. No validation split: the pre-training is judged by its ImageNet-1k fine-tuning.
_base_ = ['./patchconvnet_in1k.py']

# fall11, the release of the thesis and of the released checkpoints; winter21: 19167.
num_classes = 21841
data_preprocessor = dict(num_classes=num_classes)
train_dataloader = dict(
    dataset=dict(_delete_=True, type='ImageNet21kFileList', data_root='data/imagenet21k',
                 pipeline={{_base_.train_pipeline}}),
    sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True))
val_dataloader = None
val_evaluator = None
val_cfg = None
test_dataloader = None
test_evaluator = None
test_cfg = None
max_epochs = 90
optim_wrapper = dict(optimizer=dict(weight_decay=0.01))
train_cfg = dict(max_epochs=max_epochs)
