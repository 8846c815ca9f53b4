_base_ = ['./_base_/models/cls_patchconvnet.py', './_base_/recipes/patchconvnet_in21k.py']
# Drop path: the ImageNet-1k training's (cls_patchconvnet_l60_in1k.py).
model = dict(
    backbone=dict(arch='l60', drop_path_rate=0.4),
    head=dict(in_channels=1024, layer_scale_init=1e-06, num_classes={{_base_.num_classes}}))
