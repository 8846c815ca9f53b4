# A small Mask R-CNN + PatchConvNet trained from scratch on the synthetic COCO-format
# set (tools/make_demo_data.py --task coco) on a 2-core CPU. Same components as the
# COCO configs (pyramid neck, FPN, RPN, RoIAlign/NMS from mmcv's compiled ops),
# scaled down: narrower heads, 160-pixel images, a short schedule.
_base_ = [
    './_base_/models/mask_rcnn_isotropic.py', './_base_/datasets/coco_instance_ms_crop.py',
    './_base_/schedules/mask_rcnn_3x_adamw.py', './_base_/default_runtime_det.py'
]
data_root = 'data/synthetic_coco/'
metainfo = dict(classes=('stripes_circle', 'stripes_square', 'stripes_triangle', 'stripes_cross',
                         'stripes_star', 'checker_circle', 'checker_square', 'checker_triangle',
                         'checker_cross', 'checker_star'))
num_classes = 10
width = 128
fpn = 32
norm_cfg = dict(type='BN', requires_grad=True)  # single process on a CPU: no SyncBN
model = dict(
    backbone=dict(
        type='PatchConvNet',
        arch=dict(patch_size=16, embed_dims=width, depth=8, layer_scale_init=0.1),
        out_indices=(-1,)),
    neck=[
        dict(type='IsotropicPyramidNeck', in_channels=width, num_inputs=1, norm_cfg=norm_cfg),
        dict(type='FPN', in_channels=[width] * 4, out_channels=fpn, num_outs=5),
    ],
    rpn_head=dict(in_channels=fpn, feat_channels=fpn),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=fpn),
        bbox_head=dict(in_channels=fpn, fc_out_channels=256, num_classes=num_classes),
        mask_roi_extractor=dict(out_channels=fpn),
        mask_head=dict(num_convs=2, in_channels=fpn, conv_out_channels=fpn,
                       num_classes=num_classes)),
    # Half mmdet's proposals: a few objects an image need no more, and the CPU NMS and
    # RoIAlign are most of a training step's time here.
    train_cfg=dict(rpn_proposal=dict(nms_pre=1000, max_per_img=500),
                   rcnn=dict(sampler=dict(num=128))),
    test_cfg=dict(rpn=dict(nms_pre=300, max_per_img=100)))

scale = (240, 160)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomChoiceResize', scales=[(240, 144), (240, 160), (264, 176)], keep_ratio=True),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='TestTimeAug', transforms=[
        [dict(type='Resize', scale=s, keep_ratio=True) for s in [(216, 144), scale, (264, 176)]],
        [dict(type='RandomFlip', prob=1.), dict(type='RandomFlip', prob=0.)],
        [dict(type='LoadAnnotations', with_bbox=True, with_mask=True)],
        [dict(type='PackDetInputs',
              meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor',
                         'flip', 'flip_direction'))],
    ]),
]
train_dataloader = dict(
    batch_size=4, num_workers=2,
    dataset=dict(data_root=data_root, metainfo=metainfo, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1, num_workers=2,
    dataset=dict(data_root=data_root, metainfo=metainfo, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val2017.json')
test_evaluator = val_evaluator

max_epochs = 8
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=100),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=[6, 7],
         gamma=0.1),
]
optim_wrapper = dict(optimizer=dict(lr=5e-4, weight_decay=0.05), clip_grad=dict(max_norm=5.0))
default_hooks = dict(logger=dict(interval=25),
                     checkpoint=dict(interval=max_epochs, max_keep_ckpts=1))
env_cfg = dict(cudnn_benchmark=False, dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0)
