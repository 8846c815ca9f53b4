# patchconvnet b60 fine-tuned at 384 from its 224 ImageNet-1k model (configs/cls_patchconvnet_b60_in1k.py).
_base_ = ['./_base_/models/cls_patchconvnet.py', './_base_/recipes/patchconvnet_ft384_in1k.py']
model = dict(
    backbone=dict(arch='b60', drop_path_rate=0.2),  # 224's 0.3 - 0.1 (thesis 5.3)
    head=dict(in_channels=768, layer_scale_init=1e-06))
load_from = '{{$MMVX_CHECKPOINTS:checkpoints}}/patchconvnet_b60_in1k.pth'
