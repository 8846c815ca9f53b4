_base_ = ['./upernet_deit3_b.py']
# Table 6.12, ViT-B† (51.8 / 52.8 mIoU): the backbone pre-trained on ImageNet-21k
# (cls_deit3_b_in21k_ft_in1k.py, or DeiT III's deit_3_base_224_21k.pth converted).
model = dict(backbone=dict(init_cfg=dict(
    checkpoint='{{$MMVX_CHECKPOINTS:checkpoints}}/deit3_b_in21k_ft_in1k.pth')))
