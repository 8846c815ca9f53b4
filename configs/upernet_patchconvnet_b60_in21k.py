_base_ = ['./upernet_patchconvnet_b60.py']
# Tables 5.3 / 6.12, PatchConvNet-B60† (50.5 / 51.1 mIoU): the backbone pre-trained on ImageNet-21k
# and fine-tuned on ImageNet-1k (cls_patchconvnet_b60_in21k_ft_in1k.py).
model = dict(backbone=dict(init_cfg=dict(
    checkpoint='{{$MMVX_CHECKPOINTS:checkpoints}}/patchconvnet_b60_in21k_ft_in1k.pth')))
