_base_ = ['./_base_/models/cls_patchconvnet.py',
          './_base_/recipes/patchconvnet_in21k_ft_in1k.py']
# Drop path: the pre-training's 0.5 lowered by 0.1 (section 5.3).
model = dict(
    backbone=dict(
        arch='l120', drop_path_rate=0.4,
        init_cfg=dict(type='Pretrained', prefix='backbone.',
                      checkpoint='{{$MMVX_CHECKPOINTS:checkpoints}}/patchconvnet_l120_in21k.pth')),
    head=dict(in_channels=1024, layer_scale_init=1e-06))
