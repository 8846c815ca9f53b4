# ResMLP's ImageNet-21k pre-training (thesis Table 4.3, "pre-trained ImageNet-21k (60
# epochs)", ResMLP-B24/8): 60 epochs; the thesis gives nothing else, so the rest is the
# ImageNet-1k recipe (section 4.3.1) without repeated augmentation, which the thesis'
# other 21k pre-trainings drop (Table 6.1, section 5.2.3).
#
# Data: ImageNet-21k as its releases unpack, data/imagenet21k/train/<synset>/*.JPEG,
# through the file list that tools/dataset_converters/imagenet21k_file_list.py writes
# once. No validation split: the pre-training is judged by its ImageNet-1k fine-tuning.
_base_ = ['./resmlp_in1k.py']

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
max_epochs = 60
train_cfg = dict(max_epochs=max_epochs)
