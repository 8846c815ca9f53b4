# ResMLP-S12 with class-MLP pooling instead of average pooling (thesis T4.3: 17.7 M
# parameters, 77.5 % top-1 against 76.6 %).
_base_ = ['./cls_resmlp_s12_in1k.py']
model = dict(
    head=dict(_delete_=True, type='ClassMLPClsHead', num_classes=1000, in_channels=384,
              num_patches=196, depth=2, layer_scale_init=0.1,
              loss=dict(type='TimmLoss', name='SoftTargetCrossEntropy')))
