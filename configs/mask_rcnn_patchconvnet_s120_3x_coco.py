_base_ = [
    './_base_/models/mask_rcnn_isotropic.py', './_base_/datasets/coco_instance_ms_crop.py',
    './_base_/schedules/mask_rcnn_3x_adamw.py', './_base_/default_runtime_det.py'
]
model = dict(
    backbone=dict(
        type='PatchConvNet', arch='s120', out_indices=(-1,), drop_path_rate=0.2,
        init_cfg=dict(
            type='Pretrained', prefix='backbone.',
            checkpoint='{{$MMVX_CHECKPOINTS:checkpoints}}/patchconvnet_s120_in1k.pth')),
    neck=[
        dict(type='IsotropicPyramidNeck', in_channels=384, num_inputs=1,
             norm_cfg=dict(type='SyncBN', requires_grad=True)),
        dict(type='FPN', in_channels=[384] * 4, out_channels=256, num_outs=5),
    ])
