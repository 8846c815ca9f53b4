"""Figures of Touvron's thesis that the tests check the project against, each with the
table it comes from. Params in millions, GFLOPs as multiply-accumulates at 224x224
(the thesis' fvcore convention), both with the 1000-class head."""

# (family, variant, params M, GFLOPs, thesis table); None where the table gives none.
# Figures are kept as written there: their precision sets the tolerance.
BACKBONES = [
    ('deit3', 't', '5.7', '1.3', 'T6.14'),
    ('deit3', 's', '22.0', '4.6', 'T6.7'),
    ('deit3', 'b', '86.6', '17.5', 'T6.7'),
    ('deit3', 'l', '304.4', '61.6', 'T6.7'),
    ('deit3', 'h', '632.1', '167.4', 'T6.7'),
    ('cait', 'xxs24', '12.0', '2.5', 'T3.15'),
    ('cait', 'xxs36', '17.3', '3.8', 'T3.15'),
    ('cait', 'xs24', '26.6', '5.4', 'T3.15'),
    ('cait', 'xs36', '38.6', '8.1', 'T3.15'),
    ('cait', 's24', '46.9', '9.4', 'T3.15'),
    ('cait', 's36', '68.2', '13.9', 'T3.15'),
    ('cait', 's48', '89.5', '18.6', 'T3.15'),
    ('cait', 'm24', '185.9', '36.0', 'T3.15'),
    ('cait', 'm36', '270.9', '53.7', 'T3.15'),
    ('cait', 'm48', '356', None, 'T3.17'),
    ('resmlp', 's12', '15.4', '3.0', 'T4.3'),
    ('resmlp', 's24', '30.0', '6.0', 'T4.3'),
    ('resmlp', 'b24', '115.7', '23.0', 'T4.3'),
    ('resmlp', 's12p8', '22.1', '14.0', 'T4.3'),
    ('resmlp', 'b24p8', '129.1', '100.2', 'T4.3'),
    ('patchconvnet', 's60', '25.2', '4.0', 'T5.1'),
    ('patchconvnet', 's120', '47.7', '7.5', 'T5.1'),
    ('patchconvnet', 'b60', '99.4', '15.8', 'T5.1'),
    ('patchconvnet', 'b120', '188.6', '29.9', 'T5.1'),
    ('patchconvnet', 'l60', None, '28.1', 'T5.2'),
    ('patchconvnet', 'l120', None, '53.0', 'T5.2'),
]

# Params (M) of the whole UperNet model for ADE20k (150 classes).
UPERNET_PARAMS = {
    'deit3_t': (10.9, 'T6.12'), 'deit3_s': (41.7, 'T6.12'), 'deit3_b': (127.7, 'T6.12'),
    'deit3_l': (353.6, 'T6.12'),
    'patchconvnet_s60': (57.1, 'T5.3'), 'patchconvnet_b60': (140.6, 'T5.3'),
    'patchconvnet_b120': (229.8, 'T5.3'),
    'deit_s': (52.0, 'T5.3'),
}

# PatchConvNet's drop-path rate at 224 per variant (T5.8); its fine-tunings at higher
# resolution lower it by 0.1 (section 5.3). L60/L120 are not in the table.
PATCHCONVNET_DROP_PATH = {'s20': 0.0, 's36': 0.05, 's60': 0.15, 's120': 0.2, 'b36': 0.2,
                          'b60': 0.3, 'b120': 0.4}
PATCHCONVNET_FINETUNE_DROP_PATH_REDUCTION = 0.1
# "The RandAugment variant by Wightman et al." (section 5.2.3): magnitude 7, std 0.5
# (T6.1, Wightman et al.'s column); DeiT's is 9/0.5 (T3.9).
PATCHCONVNET_RANDAUGMENT = (7, 0.5)
DEIT_RANDAUGMENT = (9, 0.5)
# DeiT's fine-tuning at 384: 25 epochs (section 3.4.5); CaiT uses DeiT's procedure (3.7).
DEIT_FT384_EPOCHS = 25
# Soft distillation: tau 3.0, lambda 0.1 (section 3.4.5); hard: lambda 1/2 (eq. 3.3).
SOFT_DISTILLATION = dict(tau=3.0, alpha=0.1)
HARD_DISTILLATION_ALPHA = 0.5
# Grafit, ResNet-50 on CIFAR-100: parameters (M) kept at test time, trunk + projector
# (T2.7 "#Params": MLP projector 32.9, linear projector to 128-d 23.8, none 23.5).
GRAFIT_PARAMS = {'grafit_resnet50_cifar100': 32.9, 'grafit_snca_resnet50_cifar100': 32.9,
                 'grafit_fc_resnet50_cifar100': 23.8,
                 'grafit_baseline_ce_resnet50_cifar100': 23.5}
# Grafit's training values (sections 2.4.3 / 2.5.1): σ, T on CIFAR-100 and on ImageNet,
# epochs, batch, lr = 0.1 / 256 x batch.
GRAFIT_RECIPE = dict(sigma=0.05, views_cifar=8, views_imagenet=4, epochs=600, batch=1024,
                     lr=0.1 / 256 * 1024)
# Grafit's transfer to fine-grained datasets (section 2.5.4): 240 epochs, cosine from
# lr 0.01, batch 512; T2.9 top-1 of the Grafit (MLP projector) pre-training.
GRAFIT_TRANSFER = dict(epochs=240, lr=0.01, batch=512,
                       top1={'flowers102': 98.2, 'stanford_cars': 92.5, 'food101': 89.5})

# DeiT III on ImageNet-21k (T6.1, "ImNet-21k" columns; epochs of section 6.3.6): the
# pre-training and the ImageNet-1k fine-tuning. Drop path per variant: T6.14, 21k column.
DEIT3_IN21K = {
    'pretrain': dict(epochs=90, batch=2048, optimizer='TimmLamb', lr=3e-3, weight_decay=0.02,
                     warmup_epochs=5, label_smoothing=0.1, repeated_aug=False, clip_grad=1.0,
                     crop='SimpleRandomCrop', three_augment=True, mixup=0.0, cutmix=1.0,
                     color_jitter=0.3, loss='SoftTargetCrossEntropy', num_classes=21841),
    'finetune': dict(epochs=50, batch=2048, optimizer='TimmLamb', lr=3e-4, weight_decay=0.02,
                     warmup_epochs=5, label_smoothing=0.1, repeated_aug=False, clip_grad=1.0,
                     crop='SimpleRandomCrop', three_augment=True, mixup=0.0, cutmix=1.0,
                     color_jitter=0.3, loss='SoftTargetCrossEntropy', num_classes=1000,
                     test_crop_ratio=1.0),
}
DEIT3_IN21K_DROP_PATH = {'s': 0.0, 'b': 0.1, 'l': 0.3}

# PatchConvNet on ImageNet-21k (section 5.2.3): pre-training and 21k -> 1k fine-tuning;
# the fine-tuning lowers the pre-training's drop path by 0.1 (section 5.3).
PATCHCONVNET_IN21K = {
    'pretrain': dict(epochs=90, batch=2048, lr=3e-3, weight_decay=0.01, repeated_aug=False,
                     num_classes=21841),
    'finetune': dict(epochs=100, batch=1024, lr=5e-4, num_classes=1000),
}

# ResMLP-S12 ablations (T4.3): backbone option -> (params M, GFLOPs) of the classifier.
RESMLP_S12_ABLATIONS = {
    ('norm', 'layernorm'): ('15.4', '3.0'),
    ('patch_mixing', 'none'): ('14.9', '2.8'),
    ('patch_mixing', 'mlp'): ('18.6', '4.3'),
    ('patch_mixing', 'conv3x3'): ('30.8', '6.0'),
    ('patch_mixing', 'dwconv3x3'): ('14.9', '2.8'),
    ('patch_mixing', 'dwsepconv3x3'): ('16.7', '3.2'),
}
# Transfer learning (section 3.7.1.3, CaiT's; PatchConvNet's per 5.3.2; the thesis gives
# none for DeiT, ResMLP and DeiT III, whose configs apply it too): the ImageNet recipe with
# its lr divided (by 10 for Cars, Flowers and iNaturalist, 100 for CIFAR) and these
# epochs, at 224. Classes and sizes: T3.6. Test crop ratio: 0.875 in T3.19 (CaiT), 1.0
# in T6.11 (DeiT III); DeiT III fine-tunes only the attention layers on Flowers (6.3.5.1).
TRANSFER_DATASETS = {  # name: (classes, lr divisor, epochs, training images)
    'cifar10': (10, 100, 1000, 50000), 'cifar100': (100, 100, 1000, 50000),
    'flowers102': (102, 10, 1000, 2040), 'stanford_cars': (196, 10, 1000, 8144),
    'inat18': (8142, 10, 360, 437513), 'inat19': (1010, 10, 360, 265240)}
# Transfer config model -> its ImageNet config (thesis T3.7, T3.19, T4.4, T5.5, T6.11).
TRANSFER_MODELS = {'deit_b': 'cls_deit_b_in1k', 'cait_s36': 'cls_cait_s36_in1k',
                   'resmlp_s24': 'cls_resmlp_s24_in1k',
                   'patchconvnet_s60': 'cls_patchconvnet_s60_in1k', 'deit3_b': 'cls_deit3_b_in1k'}
TRANSFER_TEST_CROP_RATIO = {'cait_s36': 0.875, 'deit3_b': 1.0}
# DeiT III's longer schedules (section 6.4, T6.15): weight decay 0.02 -> 0.05, drop path
# +0.05 per 200 epochs beyond the 400 of T6.14.
DEIT3_LONG = dict(epochs=800, base_epochs=400, weight_decay=0.05, drop_path_per_200=0.05)
# ResMLP-B24/8 pre-trained on ImageNet-21k (T4.3): 60 epochs; the thesis gives no other
# value of its pre-training or of its 1k fine-tuning.
RESMLP_IN21K_EPOCHS = 60
