_base_ = ['./_base_/models/cls_patchconvnet.py', './_base_/recipes/patchconvnet_in1k.py']
model = dict(
    backbone=dict(arch='s20', drop_path_rate=0.0),  # thesis T5.8
    head=dict(in_channels=384, layer_scale_init=0.0001))
optim_wrapper = dict(optimizer=dict(weight_decay=0.01))  # S models (thesis 5.2.3)
