_base_ = ['./upernet_deit3_l.py']
# Table 6.12, ViT-L† (53.8 / 54.7 mIoU): the backbone pre-trained on ImageNet-21k
# (cls_deit3_l_in21k_ft_in1k.py, or DeiT III's deit_3_large_224_21k.pth converted).
model = dict(backbone=dict(init_cfg=dict(
    checkpoint='{{$MMVX_CHECKPOINTS:checkpoints}}/deit3_l_in21k_ft_in1k.pth')))
