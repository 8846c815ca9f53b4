model = dict(
    type='ImageClassifier',
    backbone=dict(type='PatchConvNet', arch='s60', norm='LN', out_type='tokens',
                  drop_path_rate=0.1),
    head=dict(type='ClassAttentionClsHead', num_classes=1000, in_channels=384, num_heads=1,
              depth=1, mlp_ratio=3., layer_scale_init=1e-4, multi_token=False,
              loss=dict(type='TimmLoss', name='SoftTargetCrossEntropy')),
)
