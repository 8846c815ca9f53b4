_base_ = ['./upernet_patchconvnet_b60.py']
# Tables 5.3 / 6.12, PatchConvNet-B60† (50.5 / 51.1 mIoU): the backbone pre-trained on ImageNet-21k
# (a PatchConvNet-B60 pre-trained on ImageNet-21k).
model = dict(backbone=dict(init_cfg=dict(
    checkpoint='{{$MMVX_CHECKPOINTS:checkpoints}}/patchconvnet_b60_in21k.pth')))
