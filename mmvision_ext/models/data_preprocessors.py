"""Batch-level augmentations of the classification recipes, from timm.

timm applies random erasing to normalised images and Mixup/CutMix to whole batches
(its GPU prefetch loader does both after normalisation); ``TimmClsDataPreprocessor``
does the same inside mmpretrain's ``ClsDataPreprocessor``, so the augmented batch and
its soft targets come from timm's own code.
"""
import torch
from mmpretrain.models.utils import ClsDataPreprocessor
from timm.data import Mixup
from timm.data.random_erasing import RandomErasing

from mmvision_ext.errors import ConfigError
from mmvision_ext.registry import MODELS


@MODELS.register_module()
class TimmClsDataPreprocessor(ClsDataPreprocessor):
    """mmpretrain's classification preprocessor plus timm's training augmentations.

    Args:
        random_erasing (dict, optional): arguments of ``timm.data.RandomErasing``,
            e.g. ``dict(probability=0.25, mode='pixel')``; applied per image.
        mixup (dict, optional): arguments of ``timm.data.Mixup``, e.g.
            ``dict(mixup_alpha=0.8, cutmix_alpha=1.0, label_smoothing=0.1)``;
            ``num_classes`` defaults to the preprocessor's. The mixed (and smoothed)
            targets are stored as each sample's ``gt_score``, which mmpretrain's heads
            hand to the loss instead of the labels.
        **kwargs: ``ClsDataPreprocessor`` arguments (mean, std, to_rgb, num_classes).
    """

    def __init__(self, random_erasing=None, mixup=None, **kwargs):
        if kwargs.get('batch_augments'):
            raise ConfigError('TimmClsDataPreprocessor: use its `mixup` argument (timm) '
                             'instead of mmpretrain `batch_augments`, not both')
        super().__init__(**kwargs)
        self.random_erasing = None
        if random_erasing:
            # device is set per batch; 'cpu' here only satisfies the constructor.
            self.random_erasing = RandomErasing(**dict(random_erasing, device='cpu'))
        self.mixup = None
        if mixup:
            mixup = dict(mixup)
            mixup.setdefault('num_classes', self.num_classes)
            if mixup['num_classes'] is None:
                raise ConfigError('TimmClsDataPreprocessor: Mixup/CutMix needs num_classes')
            self.mixup = Mixup(**mixup)

    def forward(self, data, training=False):
        data = super().forward(data, training)
        if not training or (self.random_erasing is None and self.mixup is None):
            return data
        inputs, data_samples = data['inputs'], data['data_samples']
        if self.random_erasing is not None:
            self.random_erasing.device = inputs.device
            inputs = self.random_erasing(inputs)
        if self.mixup is not None:
            if inputs.shape[0] % 2:
                raise ConfigError(
                    f'Mixup/CutMix pairs each image with the batch flipped, so the batch '
                    f'per GPU must be even (got {inputs.shape[0]}); use an even '
                    f'train_dataloader.batch_size and drop_last=True')
            labels = torch.cat([s.gt_label for s in data_samples]).to(inputs.device)
            inputs, targets = self.mixup(inputs, labels)
            for sample, target in zip(data_samples, targets):
                sample.set_gt_score(target)
        return dict(inputs=inputs, data_samples=data_samples)
