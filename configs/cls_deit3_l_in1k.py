_base_ = ['./_base_/models/cls_deit3.py', './_base_/recipes/deit3_in1k.py']
model = dict(
    backbone=dict(arch='l', drop_path_rate=0.4),
    head=dict(in_channels=1024))
