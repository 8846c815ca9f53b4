# DeiT's distillation teacher: RegNetY-16GF (82.9% top-1), timm's `regnety_160` in
# mmpretrain's TimmClassifier, which loads timm's state dicts as they are. Weights:
# the DeiT release's regnety_160-a5fe301d.pth (or timm's `regnety_160.deit_in1k`),
# saved as $MMVX_CHECKPOINTS/regnety_160_teacher_in1k.pth (docs/recipes.md).
# Evaluate it like any classifier: tools/test.py this_config CHECKPOINT.
_base_ = ['./_base_/datasets/imagenet_224.py', './_base_/default_runtime_cls.py']
model = dict(type='TimmClassifier', model_name='regnety_160', pretrained=False,
             num_classes=1000)
val_cfg = dict()
test_cfg = dict()
