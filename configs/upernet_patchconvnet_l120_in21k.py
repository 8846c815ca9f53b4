_base_ = [
    './_base_/models/upernet_isotropic.py', './_base_/datasets/ade20k_512.py',
    './_base_/schedules/upernet_160k.py', './_base_/default_runtime_seg.py'
]
# Tables 5.3 / 6.12, PatchConvNet-L120 (a † row): the backbone pre-trained on ImageNet-21k
# and fine-tuned on ImageNet-1k (cls_patchconvnet_l120_in21k_ft_in1k.py), as the released
# L120 weights are.
model = dict(
    backbone=dict(
        type='PatchConvNet', arch='l120', out_indices=(-1,), drop_path_rate=0.4,
        init_cfg=dict(
            type='Pretrained', prefix='backbone.',
            checkpoint='{{$MMVX_CHECKPOINTS:checkpoints}}/patchconvnet_l120_in21k_ft_in1k.pth')),
    neck=dict(in_channels=1024, num_inputs=1),
    decode_head=dict(in_channels=[1024] * 4),
    auxiliary_head=dict(in_channels=1024))
