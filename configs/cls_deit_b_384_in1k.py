# deit b fine-tuned at 384 from its 224 ImageNet-1k model (configs/cls_deit_b_in1k.py).
_base_ = ['./_base_/models/cls_deit.py', './_base_/recipes/deit_ft384_in1k.py']
model = dict(
    backbone=dict(img_size=384, arch='b', drop_path_rate=0.1),
    head=dict(in_channels=768))
load_from = '{{$MMVX_CHECKPOINTS:checkpoints}}/deit_b_in1k.pth'
