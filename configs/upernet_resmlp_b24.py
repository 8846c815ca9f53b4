# ResMLP-B24 + UperNet on ADE20k (thesis 4.3.6, Table 4.6): 224 crops, sliding 224
# windows. Section 4.3.6 names 'the x3 schedule [12, 67]'; the works it cites train
# UperNet 160k iterations on ADE20k (x3 is their COCO schedule), which this keeps.
_base_ = [
    './_base_/models/upernet_isotropic_224_slide.py',
    './_base_/datasets/ade20k_224_slide.py', './_base_/schedules/upernet_160k.py',
    './_base_/default_runtime_seg.py'
]
model = dict(
    backbone=dict(
        type='ResMLP', arch='b24', img_size=224, out_indices=(7, 11, 15, 23), drop_path_rate=0.2,
        init_cfg=dict(
            type='Pretrained', prefix='backbone.',
            checkpoint='{{$MMVX_CHECKPOINTS:checkpoints}}/resmlp_b24_in1k.pth')),
    neck=dict(in_channels=768),
    decode_head=dict(in_channels=[768] * 4),
    auxiliary_head=dict(in_channels=768))
