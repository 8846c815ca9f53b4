_base_ = ['./_base_/models/cls_patchconvnet.py', './_base_/recipes/patchconvnet_in1k.py']
model = dict(
    backbone=dict(arch='b36', drop_path_rate=0.2),  # thesis T5.8
    head=dict(in_channels=768, layer_scale_init=1e-06))
