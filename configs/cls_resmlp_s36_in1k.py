_base_ = ['./_base_/models/cls_resmlp.py', './_base_/recipes/resmlp_in1k.py']
model = dict(
    backbone=dict(arch='s36', drop_path_rate=0.1),
    head=dict(in_channels=384))
