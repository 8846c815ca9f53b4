_base_ = ['./_base_/models/cls_cait.py', './_base_/recipes/cait_in1k.py']
model = dict(
    backbone=dict(arch='s24', drop_path_rate=0.1),
    head=dict(in_channels=384, num_heads=8, layer_scale_init=1e-05))
