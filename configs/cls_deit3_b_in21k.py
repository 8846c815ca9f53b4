_base_ = ['./_base_/models/cls_deit3.py', './_base_/recipes/deit3_in21k.py']
# Drop path: thesis Table 6.14, ImageNet-21k column.
model = dict(
    backbone=dict(arch='b', drop_path_rate=0.1),
    head=dict(in_channels=768, num_classes={{_base_.num_classes}},
              loss={{_base_.ce_loss}}))
