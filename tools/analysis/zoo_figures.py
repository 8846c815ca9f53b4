"""Figures of the model zoo that the zoo tools write beside the measured ones: the
thesis' tables and the official releases the configs convert from."""

THESIS_CLS = {  # thesis T6.7/T6.14, T3.15/T3.17, T4.3, T5.1/T5.2: (params M, GFLOPs)
    'deit3_t': ('5.7', '1.3'), 'deit3_s': ('22.0', '4.6'), 'deit3_b': ('86.6', '17.5'),
    'deit3_l': ('304.4', '61.6'), 'deit3_h': ('632.1', '167.4'),
    'cait_xxs24': ('12.0', '2.5'), 'cait_xxs36': ('17.3', '3.8'), 'cait_xs24': ('26.6', '5.4'),
    'cait_xs36': ('38.6', '8.1'), 'cait_s24': ('46.9', '9.4'), 'cait_s36': ('68.2', '13.9'),
    'cait_s48': ('89.5', '18.6'), 'cait_m24': ('185.9', '36.0'), 'cait_m36': ('270.9', '53.7'),
    'cait_m48': ('356', '—'),
    'resmlp_s12': ('15.4', '3.0'), 'resmlp_s12_class_mlp': ('17.7', '3.0'),
    'resmlp_s24': ('30.0', '6.0'), 'resmlp_b24': ('115.7', '23.0'),
    'resmlp_s12p8': ('22.1', '14.0'), 'resmlp_b24p8': ('129.1', '100.2'),
    'patchconvnet_s60': ('25.2', '4.0'), 'patchconvnet_s120': ('47.7', '7.5'),
    'patchconvnet_b60': ('99.4', '15.8'), 'patchconvnet_b120': ('188.6', '29.9'),
    'patchconvnet_l60': ('—', '28.1'), 'patchconvnet_l120': ('—', '53.0'),
}
THESIS_SEG = {  # thesis T6.12, T5.3, T4.6: (params M, GFLOPs, mIoU ss, mIoU ms)
    'deit3_t': ('10.9', '148', '40.1', '41.8'), 'deit3_s': ('41.7', '588', '45.6', '46.8'),
    'deit3_b': ('127.7', '1283', '49.3', '50.2'), 'deit3_l': ('353.6', '2231', '51.5', '52.0'),
    'patchconvnet_s60': ('57.1', '952', '46.0', '46.9'),
    'patchconvnet_b60': ('140.6', '1258', '48.1', '48.6'),
    'patchconvnet_b120': ('229.8', '1550', '49.4', '50.3'),
    # ImageNet-21k pre-training (the † rows of T6.12 / T5.3)
    'deit3_b_in21k': ('127.7', '1283', '51.8', '52.8'),
    'deit3_l_in21k': ('353.6', '2231', '53.8', '54.7'),
    'patchconvnet_b60_in21k': ('140.6', '1258', '50.5', '51.1'),
    'patchconvnet_l120_in21k': ('383.7', '2086', '52.2', '52.9'),
    'deit_s': ('52.0', '1099', '—', '44.0'),
    'resmlp_s12': ('—', '—', '35.9', '—'), 'resmlp_s24': ('—', '—', '39.1', '—'),
    'resmlp_b24': ('—', '—', '42.5', '—'),
}
THESIS_DET = {  # thesis T5.6: (params M, GFLOPs, box AP, mask AP)
    'patchconvnet_s60': ('44.9', '264', '46.4', '41.3'),
              'patchconvnet_s120': ('67.4', '339', '47.0', '41.9')}

THESIS_TOP1 = {  # ImageNet-1k val top-1 (%) of the thesis: (value, table); 1k training only
    # DeiT III S/B/L: 400 epochs (the *_in1k configs) and 800 (*_800ep_in1k), T6.15.
    'deit3_s': (80.4, 'T6.15'), 'deit3_s_800ep': (81.4, 'T6.15'), 'deit3_s_384': (83.4, 'T6.7'),
    'deit3_b': (83.1, 'T6.15'), 'deit3_b_800ep': (83.7, 'T6.15'), 'deit3_b_384': (85.0, 'T6.7'),
    'deit3_l': (84.2, 'T6.15'), 'deit3_l_800ep': (84.5, 'T6.15'), 'deit3_l_384': (85.8, 'T6.7'),
    'deit3_h': (85.2, 'T6.7'), 'deit_t': (72.2, 'T3.5'), 'deit_t_distilled': (74.5, 'T3.3'),
    'deit_s': (79.8, 'T3.5'), 'deit_s_distilled': (81.2, 'T3.3'), 'deit_b': (81.8, 'T3.5'),
    'deit_b_384': (83.1, 'T3.5'), 'deit_b_distilled': (83.4, 'T3.3'),
    'deit_b_distilled_384': (84.5, 'T3.3'), 'deit_t_soft_distilled': (72.2, 'T3.3'),
    'deit_s_soft_distilled': (79.8, 'T3.3'), 'deit_b_soft_distilled': (81.8, 'T3.3'),
    'cait_xxs24': (77.6, 'T3.15'), 'cait_xxs24_384': (80.4, 'T3.15'),
    'cait_xxs36': (79.1, 'T3.15'), 'cait_xxs36_384': (81.8, 'T3.15'),
    'cait_xs24': (81.8, 'T3.15'), 'cait_xs24_384': (83.8, 'T3.15'),
    'cait_xs36': (82.6, 'T3.15'), 'cait_xs36_384': (84.3, 'T3.15'),
    'cait_s24': (82.7, 'T3.15'), 'cait_s24_384': (84.3, 'T3.15'), 'cait_s36': (83.3, 'T3.15'),
    'cait_s36_384': (85.0, 'T3.15'), 'cait_s48': (83.5, 'T3.15'),
    'cait_s48_384': (85.1, 'T3.15'), 'cait_m24': (83.4, 'T3.15'),
    'cait_m24_384': (84.5, 'T3.15'), 'cait_m36': (83.8, 'T3.15'),
    'cait_m36_384': (84.9, 'T3.15'), 'resmlp_s12': (76.6, 'T4.3'),
    'resmlp_s24': (79.4, 'T4.3'), 'resmlp_b24': (81.0, 'T4.3'), 'resmlp_b24p8': (81.0, 'T4.3'),
    'resmlp_b24p8_in21k_ft': (84.4, 'T4.3'),
    'resmlp_s12p8': (79.1, 'T4.3'), 'resmlp_s12_class_mlp': (77.5, 'T4.3'),
    'patchconvnet_s20': (78.7, 'T5.8'), 'patchconvnet_s36': (80.7, 'T5.8'),
    'patchconvnet_b36': (82.8, 'T5.8'),
    'patchconvnet_s60': (82.1, 'T5.1'), 'patchconvnet_s120': (83.2, 'T5.1'),
    'patchconvnet_b60': (83.5, 'T5.1'), 'patchconvnet_b120': (84.1, 'T5.1'),
    # Distilled from the RegNetY-16GF teacher, without a distillation token.
    'cait_xxs24_distilled': (78.4, 'T3.15'), 'cait_xxs36_distilled': (79.7, 'T3.15'),
    'cait_xs24_distilled': (82.0, 'T3.15'), 'cait_xs36_distilled': (82.9, 'T3.15'),
    'cait_s24_distilled': (83.5, 'T3.15'), 'cait_s36_distilled': (84.0, 'T3.15'),
    'cait_s48_distilled': (83.9, 'T3.15'), 'cait_m24_distilled': (84.7, 'T3.15'),
    'cait_m36_distilled': (85.1, 'T3.15'), 'resmlp_s12_distilled': (77.8, 'T4.3'),
    'resmlp_s24_distilled': (80.8, 'T4.3'), 'resmlp_b24p8_distilled': (83.6, 'T4.3'),
}
# Transfer learning top-1 per transfer config (thesis T3.7, T3.19, T4.4, T5.5, T6.11):
# model -> (table, CIFAR-10, CIFAR-100, Flowers-102, Stanford Cars, iNat-18, iNat-19).
TRANSFER_DATASETS = {'cifar10': 'CIFAR-10', 'cifar100': 'CIFAR-100',
                     'flowers102': 'Oxford Flowers-102', 'stanford_cars': 'Stanford Cars',
                     'inat18': 'iNaturalist 2018', 'inat19': 'iNaturalist 2019'}
THESIS_TRANSFER = {
    'deit_b': ('T3.7', 99.1, 90.8, 98.4, 92.1, 73.2, 77.7),
    'cait_s36': ('T3.19', 99.2, 92.2, 98.8, 93.5, 77.1, 80.6),
    'resmlp_s24': ('T4.4', 98.7, 89.5, 97.9, 89.5, 64.3, 72.5),
    'patchconvnet_s60': ('T5.5', 99.2, 91.4, 98.8, 94.0, 72.9, 78.1),
    'deit3_b': ('T6.11', 99.3, 92.5, 98.6, 93.4, 73.6, 78.0),
}
# The official release each classification config converts from (facebookresearch/deit's
# READMEs and model files, as timm's model files cite them). The released CaiT models
# are all distilled (the 224 ones match the *_distilled configs; the 384 ones are
# distilled fine-tunings, which no config here is); PatchConvNet's 384 and L models are
# ImageNet-21k pre-trained.
_FB = 'https://dl.fbaipublicfiles.com/deit/'
OFFICIAL_WEIGHTS = {
    'deit3_s': _FB + 'deit_3_small_224_1k.pth', 'deit3_s_384': _FB + 'deit_3_small_384_1k.pth',
    'deit3_m': _FB + 'deit_3_medium_224_1k.pth', 'deit3_b': _FB + 'deit_3_base_224_1k.pth',
    'deit3_b_384': _FB + 'deit_3_base_384_1k.pth', 'deit3_l': _FB + 'deit_3_large_224_1k.pth',
    # ImageNet-21k pre-trained, fine-tuned on ImageNet-1k at 224 (cls_deit3_*_in21k_ft_in1k)
    'deit3_s_in21k_ft': _FB + 'deit_3_small_224_21k.pth',
    'deit3_b_in21k_ft': _FB + 'deit_3_base_224_21k.pth',
    'deit3_l_in21k_ft': _FB + 'deit_3_large_224_21k.pth',
    'deit3_l_384': _FB + 'deit_3_large_384_1k.pth', 'deit3_h': _FB + 'deit_3_huge_224_1k.pth',
    'deit_t': _FB + 'deit_tiny_patch16_224-a1311bcf.pth',
    'deit_t_distilled': _FB + 'deit_tiny_distilled_patch16_224-b40b3cf7.pth',
    'deit_s': _FB + 'deit_small_patch16_224-cd65a155.pth',
    'deit_s_distilled': _FB + 'deit_small_distilled_patch16_224-649709d9.pth',
    'deit_b': _FB + 'deit_base_patch16_224-b5f2ef4d.pth',
    'deit_b_384': _FB + 'deit_base_patch16_384-8de9b5d1.pth',
    'deit_b_distilled': _FB + 'deit_base_distilled_patch16_224-df68dfff.pth',
    'resmlp_s12': _FB + 'resmlp_12_no_dist.pth', 'resmlp_s24': _FB + 'resmlp_24_no_dist.pth',
    'resmlp_s36': _FB + 'resmlp_36_no_dist.pth',
    'resmlp_b24p8': _FB + 'resmlpB_24_no_dist.pth',  # the released B24 has 8x8 patches
    'resmlp_s12_distilled': _FB + 'resmlp_12_dist.pth',
    'resmlp_s24_distilled': _FB + 'resmlp_24_dist.pth',
    'resmlp_b24p8_distilled': _FB + 'resmlpB_24_dist.pth',
    'resmlp_b24p8_in21k_ft': _FB + 'resmlpB_24_22k.pth',
    'cait_xxs24_distilled': _FB + 'XXS24_224.pth', 'cait_xxs36_distilled': _FB + 'XXS36_224.pth',
    'cait_s24_distilled': _FB + 'S24_224.pth',
    'patchconvnet_s60': _FB + 's60_224_1k.pth', 'patchconvnet_s120': _FB + 's120_224_1k.pth',
    'patchconvnet_b60': _FB + 'b60_224_1k.pth', 'patchconvnet_b120': _FB + 'b120_224_1k.pth',
}
# Collections of the model index: one per family, with its paper.
COLLECTIONS = {
    'deit3': ('DeiT3', 'DeiT III: Revenge of the ViT', 'https://arxiv.org/abs/2204.07118'),
    'deit': ('DeiT', 'Training data-efficient image transformers & distillation through '
             'attention', 'https://arxiv.org/abs/2012.12877'),
    'cait': ('CaiT', 'Going deeper with Image Transformers', 'https://arxiv.org/abs/2103.17239'),
    'resmlp': ('ResMLP', 'ResMLP: Feedforward networks for image classification with '
               'data-efficient training', 'https://arxiv.org/abs/2105.03404'),
    'patchconvnet': ('PatchConvNet', 'Augmenting Convolutional networks with attention-based '
                     'aggregation', 'https://arxiv.org/abs/2112.13692'),
}
