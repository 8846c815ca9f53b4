_base_ = ['./_base_/models/cls_cait.py', './_base_/recipes/cait_in1k.py']
model = dict(
    backbone=dict(arch='m24', drop_path_rate=0.2),
    head=dict(in_channels=768, num_heads=16, layer_scale_init=1e-05))
