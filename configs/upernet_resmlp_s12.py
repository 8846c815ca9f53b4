# ResMLP-S12 + UperNet on ADE20k (thesis 4.3.6, Table 4.6): 224 crops, sliding 224
# windows. Section 4.3.6 names 'the x3 schedule [12, 67]'; the works it cites train
# UperNet 160k iterations on ADE20k (x3 is their COCO schedule), which this keeps.
_base_ = [
    './_base_/models/upernet_isotropic_224_slide.py',
    './_base_/datasets/ade20k_224_slide.py', './_base_/schedules/upernet_160k.py',
    './_base_/default_runtime_seg.py'
]
model = dict(
    backbone=dict(
        type='ResMLP', arch='s12', img_size=224, out_indices=(3, 5, 7, 11), drop_path_rate=0.05,
        init_cfg=dict(
            type='Pretrained', prefix='backbone.',
            checkpoint='{{$MMVX_CHECKPOINTS:checkpoints}}/resmlp_s12_in1k.pth')),
    neck=dict(in_channels=384),
    decode_head=dict(in_channels=[384] * 4, channels=384),
    auxiliary_head=dict(in_channels=384))
