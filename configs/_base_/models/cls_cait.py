model = dict(
    type='ImageClassifier',
    backbone=dict(type='CaiT', arch='xxs24', img_size=224, out_type='tokens',
                  drop_path_rate=0.05),
    head=dict(type='ClassAttentionClsHead', num_classes=1000, in_channels=192, num_heads=4,
              depth=2, mlp_ratio=4., layer_scale_init=1e-5,
              loss=dict(type='TimmLoss', name='SoftTargetCrossEntropy')),
)
