_base_ = ['./_base_/models/cls_deit3.py', './_base_/recipes/deit3_in21k_ft_in1k.py']
# The thesis "marginally adapts" drop path for the fine-tuning (section 6.3.6) without
# the values: the pre-training's (Table 6.14, ImageNet-21k column) is kept.
model = dict(
    backbone=dict(
        arch='s', drop_path_rate=0.0,
        init_cfg=dict(type='Pretrained', prefix='backbone.',
                      checkpoint='{{$MMVX_CHECKPOINTS:checkpoints}}/deit3_s_in21k.pth')),
    head=dict(in_channels=384, loss={{_base_.ce_loss}}))
