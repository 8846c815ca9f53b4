# UperNet on an isotropic backbone through the 4-level pyramid neck (XCiT's setup).
# Backbone configs set: backbone, neck.in_channels, decode_head.in_channels and
# auxiliary_head.in_channels (the backbone width) and, where it differs, channels.
norm_cfg = dict(type='SyncBN', requires_grad=True)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size=(512, 512),  # the training crop (datasets' crop_size)
)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(),
    # with_cp (here and on the backbone): gradient checkpointing, less memory for time.
    neck=dict(type='IsotropicPyramidNeck', in_channels=768, num_inputs=4, norm_cfg=norm_cfg,
              with_cp=False),
    decode_head=dict(
        type='UPerHeadWithCP',  # mmseg's UPerHead with with_cp
        with_cp=False,
        in_channels=[768, 768, 768, 768],
        in_index=[0, 1, 2, 3],
        pool_scales=(1, 2, 3, 6),
        channels=512,
        dropout_ratio=0.1,
        num_classes=150,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    auxiliary_head=dict(
        type='FCNHead',
        in_channels=768,
        in_index=2,
        channels=256,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.1,
        num_classes=150,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'),
)
