from .synthetic import SYNTHETIC_CLASSES, make_dataset
from .transforms import ResizeCenterCrop, SimpleRandomCrop, ThreeAugment, TimmRandAugment

__all__ = ['SYNTHETIC_CLASSES', 'make_dataset', 'ResizeCenterCrop', 'SimpleRandomCrop',
           'ThreeAugment', 'TimmRandAugment']
