_base_ = ['./_base_/models/cls_resmlp.py', './_base_/recipes/resmlp_in21k.py']
# Drop path: the ImageNet-1k training's (cls_resmlp_b24p8_in1k.py).
model = dict(
    backbone=dict(arch='b24p8', drop_path_rate=0.2),
    head=dict(in_channels=768, num_classes={{_base_.num_classes}}))
