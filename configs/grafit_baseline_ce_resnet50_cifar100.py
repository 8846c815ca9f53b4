# The thesis' baseline ("Baseline (ours)", Table 2.7 first rows): the same trunk and
# training procedure, cross-entropy on the 20 coarse classes, kNN and retrieval on the
# ℓ2-normalised trunk features: kNN 71.8, mAP 42.5 (43.1 with ψ_cond); 23.5 M.
_base_ = ['./grafit_resnet50_cifar100.py']
model = dict(projector=None, predictor=None,
             coarse_head=dict(type='LinearClsHead', num_classes=20, in_channels=2048),
             loss_weights=dict(_delete_=True, ce=1.0))
# One view per image, as the supervised loss of every variant sees.
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='MultiView', num_views=1, transforms=[{{_base_.view_pipeline}}]),
    {{_base_.pack}}]))
