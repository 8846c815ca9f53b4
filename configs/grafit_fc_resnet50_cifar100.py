# Grafit FC: a linear projector to 128 dimensions, as Wu et al.'s SNCA (thesis Table
# 2.7: kNN 75.6, mAP 53.6 cosine / 55.0 ψ_cond; 23.8 M parameters at test time).
_base_ = ['./grafit_resnet50_cifar100.py']
model = dict(projector=dict(_delete_=True, type='LinearNeck', in_channels=2048,
                            out_channels=128, norm_cfg=None),
             predictor=dict(in_channels=128))
