_base_ = ['./_base_/models/cls_deit.py', './_base_/recipes/deit_in1k.py']
model = dict(
    backbone=dict(arch='s', drop_path_rate=0.1),
    head=dict(in_channels=384))
