# deit3 s fine-tuned at 384 from its 224 ImageNet-1k model (configs/cls_deit3_s_in1k.py).
_base_ = ['./_base_/models/cls_deit3.py', './_base_/recipes/deit3_ft384_in1k.py']
model = dict(
    backbone=dict(img_size=384, arch='s', drop_path_rate=0.0),
    head=dict(in_channels=384))
load_from = '{{$MMVX_CHECKPOINTS:checkpoints}}/deit3_s_in1k.pth'
