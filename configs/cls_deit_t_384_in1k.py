# deit t fine-tuned at 384 from its 224 ImageNet-1k model (configs/cls_deit_t_in1k.py).
_base_ = ['./_base_/models/cls_deit.py', './_base_/recipes/deit_ft384_in1k.py']
model = dict(
    backbone=dict(img_size=384, arch='t', drop_path_rate=0.1),
    head=dict(in_channels=192))
load_from = '{{$MMVX_CHECKPOINTS:checkpoints}}/deit_t_in1k.pth'
