_base_ = [
    './_base_/models/upernet_isotropic.py', './_base_/datasets/ade20k_512.py',
    './_base_/schedules/upernet_160k.py', './_base_/default_runtime_seg.py'
]
model = dict(
    backbone=dict(
        type='DeiT3ViT', arch='b', img_size=224, out_indices=(3, 5, 7, 11), drop_path_rate=0.1,
        init_cfg=dict(
            type='Pretrained', prefix='backbone.',
            checkpoint='{{$MMVX_CHECKPOINTS:checkpoints}}/deit3_b_in1k.pth')),
    neck=dict(in_channels=768, num_inputs=4),
    decode_head=dict(in_channels=[768] * 4),
    auxiliary_head=dict(in_channels=768))
