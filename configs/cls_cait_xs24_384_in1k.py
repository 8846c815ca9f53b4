# cait xs24 fine-tuned at 384 from its 224 ImageNet-1k model (configs/cls_cait_xs24_in1k.py).
_base_ = ['./_base_/models/cls_cait.py', './_base_/recipes/cait_ft384_in1k.py']
model = dict(
    backbone=dict(img_size=384, arch='xs24', drop_path_rate=0.05),
    head=dict(in_channels=288, num_heads=6, layer_scale_init=1e-05))
load_from = '{{$MMVX_CHECKPOINTS:checkpoints}}/cait_xs24_in1k.pth'
