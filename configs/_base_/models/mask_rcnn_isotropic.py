# Mask R-CNN (mmdet's standard heads) on an isotropic backbone: the 4-level pyramid
# neck, then mmdet's FPN (256 channels, 5 outputs). Backbone configs set `backbone`
# and restate `neck` with their width.
_base_ = ['mmdet::_base_/models/mask-rcnn_r50_fpn.py']
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    backbone=dict(_delete_=True),
    neck=[
        dict(type='IsotropicPyramidNeck', in_channels=768, num_inputs=4, norm_cfg=norm_cfg),
        dict(type='FPN', in_channels=[768, 768, 768, 768], out_channels=256, num_outs=5),
    ])
