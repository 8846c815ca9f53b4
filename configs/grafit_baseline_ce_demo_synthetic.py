# The coarse cross-entropy baseline of grafit_demo_synthetic.py: the same trunk, data,
# views seen and schedule; cross-entropy on the 5 shapes; kNN and retrieval on the
# ℓ2-normalised trunk features.
_base_ = ['./grafit_demo_synthetic.py']
model = dict(projector=None, predictor=None,
             coarse_head=dict(type='LinearClsHead', num_classes=5, in_channels=128),
             loss_weights=dict(_delete_=True, ce=1.0))
