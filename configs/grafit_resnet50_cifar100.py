# Grafit, ResNet-50 trunk, CIFAR-100 coarse-to-fine: trained on the 20 coarse classes,
# evaluated on the 100 fine ones. Thesis Tables 2.4 / 2.7: kNN top-1 77.7, mAP 52.9
# (cosine ranking) / 55.7 (ψ_cond) / 59.3 (oracle); 32.9 M parameters at test time
# (trunk + MLP projector). T = 8 views, σ = 0.05, batch 1024 (8 GPUs x 128).
_base_ = ['./_base_/datasets/cifar100_two_level.py', './_base_/recipes/grafit_sgd.py',
          './_base_/default_runtime_cls.py']
# BYOL's MLPs (Linear-BN-ReLU-Linear, 4096 hidden, 256 out).
mlp = dict(type='NonLinearNeck', hid_channels=4096, out_channels=256, with_bias=True,
           with_last_bn=False, with_avg_pool=False, norm_cfg=dict(type='SyncBN'))
model = dict(
    type='Grafit',
    backbone=dict(type='ResNet_CIFAR', depth=50),
    neck=dict(type='GlobalAveragePooling'),
    projector=dict(mlp, in_channels=2048),
    predictor=dict(mlp, in_channels=256),
    num_train=50000, num_coarse=20, num_fine=100,
    loss_weights=dict(knn=1.0, inst=1.0),
    sigma=0.05,
    knn_k=20,
)
