model = dict(
    type='ImageClassifier',
    backbone=dict(type='ResMLP', arch='s12', img_size=224, out_type='tokens',
                  drop_path_rate=0.05),
    head=dict(type='TokenPoolClsHead', num_classes=1000, in_channels=384, pool='avg',
              loss=dict(type='TimmLoss', name='SoftTargetCrossEntropy')),
)
