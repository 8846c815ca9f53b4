"""Per-image transforms of the classification recipes (thesis ch. 3 and 6).

They work on mmcv/mmpretrain results dicts (``img``: HxWx3 uint8, BGR). The random
resized crop, flip, colour jitter and resizes are mmpretrain's; what is here is what
mmpretrain lacks or does differently from the reference code:

- ``ThreeAugment`` (DeiT III): exactly one of grayscale, solarisation, Gaussian blur.
- ``TimmRandAugment``: timm's RandAugment (the ``rand-m9-mstd0.5-inc1`` policy
  strings of DeiT/CaiT/ResMLP/PatchConvNet), which mmpretrain's RandAugment does
  not reproduce (different op set and magnitude noise).
- ``SimpleRandomCrop`` (DeiT III, ImageNet-21k): short side to the train size,
  4-pixel reflect pad, random square crop.
- ``ResizeCenterCrop``: evaluation resize by crop ratio, as timm's ``crop_pct``.
"""
import math
import random

import numpy as np
from mmcv.transforms import BaseTransform
from mmpretrain.datasets.transforms import CenterCrop, RandomCrop, ResizeEdge
from PIL import Image, ImageFilter, ImageOps
from timm.data import rand_augment_transform
from timm.data.transforms import str_to_pil_interp

from mmvision_ext.errors import ConfigError
from mmvision_ext.registry import TRANSFORMS


def _to_pil(img):
    return Image.fromarray(np.ascontiguousarray(img[..., ::-1]))  # BGR -> RGB


def _from_pil(pil):
    return np.ascontiguousarray(np.asarray(pil.convert('RGB'))[..., ::-1])


@TRANSFORMS.register_module()
class ThreeAugment(BaseTransform):
    """DeiT III's 3-Augment: per image, one of grayscale, solarisation (threshold 128)
    or Gaussian blur (radius uniform in ``blur_radius``), with equal probability. The
    operations are PIL's, as in the reference ``augment.py``; colour jitter and flip
    are separate transforms in the pipeline. The chosen operation is recorded in
    ``results['three_augment']``.

    Args:
        blur_radius (tuple[float]): range of the Gaussian blur's radius, in pixels.
    """

    OPS = ('grayscale', 'solarize', 'blur')

    def __init__(self, blur_radius=(0.1, 2.0)):
        self.blur_radius = tuple(blur_radius)

    def transform(self, results):
        op = random.choice(self.OPS)
        pil = _to_pil(results['img'])
        if op == 'grayscale':
            pil = pil.convert('L')
        elif op == 'solarize':
            pil = ImageOps.solarize(pil, threshold=128)
        else:
            pil = pil.filter(ImageFilter.GaussianBlur(radius=random.uniform(*self.blur_radius)))
        results['img'] = _from_pil(pil)
        results['three_augment'] = op
        return results

    def __repr__(self):
        return f'{self.__class__.__name__}(blur_radius={self.blur_radius})'


@TRANSFORMS.register_module()
class TimmRandAugment(BaseTransform):
    """timm's RandAugment from a policy string, e.g. ``'rand-m9-mstd0.5-inc1'``.

    Args:
        policy (str): timm's RandAugment policy string.
        img_size (int): sets the translation range (45% of it, as timm's transform
            factory).
        mean (tuple[float]): RGB fill colour (0..1) of the geometric operations.
        interpolation (str): resampling of the rotations, shears and translations:
            ``'bicubic'``, the reference recipes' ``--train-interpolation``, passed on
            as timm's transform factory does; ``'random'`` leaves timm's own random
            choice of bilinear or bicubic. Default: ``'bicubic'``.
    """

    def __init__(self, policy='rand-m9-mstd0.5-inc1', img_size=224,
                 mean=(0.485, 0.456, 0.406), interpolation='bicubic'):
        self.policy = policy
        self.interpolation = interpolation
        hparams = dict(translate_const=int(img_size * 0.45),
                       img_mean=tuple(round(255 * m) for m in mean))
        if interpolation != 'random':
            hparams['interpolation'] = str_to_pil_interp(interpolation)
        self.rand_augment = rand_augment_transform(policy, hparams)

    def transform(self, results):
        results['img'] = _from_pil(self.rand_augment(_to_pil(results['img'])))
        return results

    def __repr__(self):
        return (f"{self.__class__.__name__}(policy='{self.policy}', "
                f"interpolation='{self.interpolation}')")


@TRANSFORMS.register_module()
class SimpleRandomCrop(BaseTransform):
    """DeiT III's Simple Random Crop: resize the short side to ``size``, pad 4 pixels
    by reflection, take a random ``size`` x ``size`` crop.

    Args:
        size (int): output size. Default: 224.
        padding (int): reflection padding before the crop. Default: 4.
        interpolation (str): resize interpolation. Default: ``'bicubic'``.
        backend (str): mmcv's image backend for the resize. Default: ``'pillow'``.
    """

    def __init__(self, size=224, padding=4, interpolation='bicubic', backend='pillow'):
        self.resize = ResizeEdge(scale=size, edge='short', interpolation=interpolation,
                                 backend=backend)
        self.crop = RandomCrop(crop_size=size, padding=padding, padding_mode='reflect')

    def transform(self, results):
        return self.crop(self.resize(results))


@TRANSFORMS.register_module()
class ResizeCenterCrop(BaseTransform):
    """Evaluation crop: resize the short side to ``floor(crop_size / crop_ratio)``, then
    take the central ``crop_size`` square (timm's ``crop_pct``; 0.875 gives 256 -> 224,
    1.0 resizes straight to the crop).

    Args:
        crop_size (int): output size. Default: 224.
        crop_ratio (float): crop size / resized short side. Default: 0.875.
        interpolation (str): resize interpolation. Default: ``'bicubic'``.
        backend (str): mmcv's image backend for the resize. Default: ``'pillow'``.
    """

    def __init__(self, crop_size=224, crop_ratio=0.875, interpolation='bicubic',
                 backend='pillow'):
        if not 0 < crop_ratio <= 1:
            raise ConfigError(f'crop_ratio must be in (0, 1], got {crop_ratio}')
        self.crop_size, self.crop_ratio = crop_size, crop_ratio
        self.resize_size = math.floor(crop_size / crop_ratio)
        self.resize = ResizeEdge(scale=self.resize_size, edge='short',
                                 interpolation=interpolation, backend=backend)
        self.crop = CenterCrop(crop_size=crop_size)

    def transform(self, results):
        return self.crop(self.resize(results))

    def __repr__(self):
        return (f'{self.__class__.__name__}(crop_size={self.crop_size}, '
                f'crop_ratio={self.crop_ratio}, resize_size={self.resize_size})')
