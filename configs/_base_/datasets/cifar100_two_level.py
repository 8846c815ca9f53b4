# CIFAR-100 with its 20 coarse and 100 fine labels (thesis 2.4.1, Table 2.3) for Grafit:
# train on the coarse labels, evaluate against the fine ones. T = 8 augmented views per
# training image on CIFAR-100 (section 2.5.1): random resized crop, RandAugment and
# random erasing (section 2.4.3) at 32x32. The memory of embeddings is recomputed over
# the training set before each evaluation (section 2.3.1).
dataset_type = 'CIFAR100TwoLevel'
data_root = 'data/cifar100'  # holds cifar-100-python/
num_views = 8
img_size = 32
view_pipeline = [
    dict(type='RandomResizedCrop', scale=img_size, backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='TimmRandAugment', policy='rand-m9-mstd0.5-inc1', img_size=img_size),
    dict(type='RandomErasing', erase_prob=0.25, mode='rand'),
]
pack = dict(type='PackInputs', algorithm_keys=('coarse_label', 'fine_label'))
train_pipeline = [dict(type='MultiView', num_views=num_views, transforms=[view_pipeline]), pack]
test_pipeline = [pack]
data_preprocessor = dict(type='SelfSupDataPreprocessor', mean=[129.3, 124.1, 112.4],
                         std=[68.2, 65.4, 70.4], to_rgb=True)
train_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=True,
    drop_last=True,
    collate_fn=dict(type='default_collate'),  # views batched as SelfSupDataPreprocessor takes them
    dataset=dict(type=dataset_type, data_root=data_root, split='train', label_level='coarse',
                 pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=256,
    num_workers=4,
    persistent_workers=True,
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, split='test', label_level='coarse',
                 pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
test_dataloader = val_dataloader
# The memory: the train_dataloader's dataset with the test pipeline, unshuffled.
custom_hooks = [dict(type='GrafitMemoryHook')]
val_evaluator = dict(type='CoarseToFineMetric')
test_evaluator = val_evaluator
