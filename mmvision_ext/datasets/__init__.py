from .imagenet21k import ImageNet21kFileList, write_file_list
from .imagenet_v2 import ImageNetV2
from .two_level import CIFAR100TwoLevel, ImageNetTwoLevel, INaturalistTwoLevel
from .synthetic import SYNTHETIC_CLASSES, make_cifar100_two_level, make_dataset
from .transfer import CIFAR10Python, CIFAR100Python, INaturalist
from .transforms import ResizeCenterCrop, SimpleRandomCrop, ThreeAugment, TimmRandAugment

__all__ = ['CIFAR10Python', 'CIFAR100Python', 'INaturalist', 'ImageNet21kFileList',
           'write_file_list', 'CIFAR100TwoLevel', 'ImageNetTwoLevel', 'INaturalistTwoLevel',
           'ImageNetV2', 'SYNTHETIC_CLASSES', 'make_cifar100_two_level', 'make_dataset',
           'ResizeCenterCrop', 'SimpleRandomCrop', 'ThreeAugment', 'TimmRandAugment']
