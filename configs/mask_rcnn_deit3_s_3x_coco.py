_base_ = [
    './_base_/models/mask_rcnn_isotropic.py', './_base_/datasets/coco_instance_ms_crop.py',
    './_base_/schedules/mask_rcnn_3x_adamw.py', './_base_/default_runtime_det.py'
]
model = dict(
    backbone=dict(
        type='DeiT3ViT', arch='s', img_size=224, out_indices=(3, 5, 7, 11), drop_path_rate=0.05,
        init_cfg=dict(
            type='Pretrained', prefix='backbone.',
            checkpoint='{{$MMVX_CHECKPOINTS:checkpoints}}/deit3_s_in1k.pth')),
    neck=[
        dict(type='IsotropicPyramidNeck', in_channels=384, num_inputs=4,
             norm_cfg=dict(type='SyncBN', requires_grad=True)),
        dict(type='FPN', in_channels=[384] * 4, out_channels=256, num_outs=5),
    ])
