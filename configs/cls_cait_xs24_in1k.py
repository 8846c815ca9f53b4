_base_ = ['./_base_/models/cls_cait.py', './_base_/recipes/cait_in1k.py']
model = dict(
    backbone=dict(arch='xs24', drop_path_rate=0.05),
    head=dict(in_channels=288, num_heads=6, layer_scale_init=1e-05))
