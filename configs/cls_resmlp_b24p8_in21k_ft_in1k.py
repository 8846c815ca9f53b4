_base_ = ['./_base_/models/cls_resmlp.py', './_base_/recipes/resmlp_in21k_ft_in1k.py']
# Drop path: the pre-training's 0.2 lowered by 0.1 (section 5.3).
model = dict(
    backbone=dict(
        arch='b24p8', drop_path_rate=0.1,
        init_cfg=dict(type='Pretrained', prefix='backbone.',
                      checkpoint='{{$MMVX_CHECKPOINTS:checkpoints}}/resmlp_b24p8_in21k.pth')),
    head=dict(in_channels=768))
