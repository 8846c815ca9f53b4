from .imagenet_v2 import ImageNetV2
from .synthetic import SYNTHETIC_CLASSES, make_dataset
from .transforms import ResizeCenterCrop, SimpleRandomCrop, ThreeAugment, TimmRandAugment

__all__ = ['ImageNetV2', 'SYNTHETIC_CLASSES', 'make_dataset', 'ResizeCenterCrop', 'SimpleRandomCrop',
           'ThreeAugment', 'TimmRandAugment']
