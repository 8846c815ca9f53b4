_base_ = ['./_base_/models/cls_patchconvnet.py',
          './_base_/recipes/patchconvnet_in21k_ft_in1k.py']
# Drop path: the pre-training's 0.3 lowered by 0.1 (section 5.3).
model = dict(
    backbone=dict(
        arch='b60', drop_path_rate=0.2,
        init_cfg=dict(type='Pretrained', prefix='backbone.',
                      checkpoint='{{$MMVX_CHECKPOINTS:checkpoints}}/patchconvnet_b60_in21k.pth')),
    head=dict(in_channels=768, layer_scale_init=1e-06))
