# Linear probe on fine labels (thesis sections 2.2 and 2.5.2): the trunk of a trained
# Grafit model (or of a baseline) stays fixed; a linear classifier learns CIFAR-100's
# 100 fine classes on its pooled features. The thesis gives no schedule for this
# stage: SGD, lr 0.1 at batch 256, cosine over 100 epochs, crop + flip.
# GRAFIT_CHECKPOINT names the trained Grafit checkpoint.
_base_ = ['./_base_/datasets/cifar100_two_level.py', './_base_/default_runtime_cls.py']
grafit_checkpoint = '{{$GRAFIT_CHECKPOINT:work_dirs/grafit_resnet50_cifar100/epoch_600.pth}}'
model = dict(
    type='ImageClassifier',
    backbone=dict(type='ResNet_CIFAR', depth=50, frozen_stages=4, norm_eval=True,
                  init_cfg=dict(type='Pretrained', checkpoint=grafit_checkpoint,
                                prefix='backbone.')),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=100, in_channels=2048,
              loss=dict(type='CrossEntropyLoss'), topk=(1, 5)))
data_preprocessor = dict(_delete_=True, type='ClsDataPreprocessor', num_classes=100,
                         mean=[129.3, 124.1, 112.4], std=[68.2, 65.4, 70.4], to_rgb=True)
pack = dict(type='PackInputs')
train_pipeline = [dict(type='RandomCrop', crop_size=32, padding=4),
                  dict(type='RandomFlip', prob=0.5, direction='horizontal'), pack]
train_dataloader = dict(batch_size=256, collate_fn=dict(_delete_=True, type='pseudo_collate'),
                        dataset=dict(label_level='fine', pipeline=train_pipeline))
val_dataloader = dict(collate_fn=dict(_delete_=True, type='pseudo_collate'),
                      dataset=dict(label_level='fine', pipeline=[pack]))
test_dataloader = val_dataloader
val_evaluator = dict(_delete_=True, type='Accuracy', topk=(1, 5))
test_evaluator = val_evaluator
custom_hooks = []
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=0.0))
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=True, begin=0, eta_min=0.0)]
train_cfg = dict(by_epoch=True, max_epochs=100, val_interval=10)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=256)
