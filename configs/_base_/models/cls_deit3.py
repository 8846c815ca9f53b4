model = dict(
    type='ImageClassifier',
    backbone=dict(type='DeiT3ViT', arch='s', img_size=224, out_type='tokens',
                  drop_path_rate=0.05),
    head=dict(type='TokenPoolClsHead', num_classes=1000, in_channels=384, pool='cls',
              loss=dict(type='TimmLoss', name='BinaryCrossEntropy', smoothing=0.0,
                        target_threshold=0.0)),
)
