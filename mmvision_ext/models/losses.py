"""timm's classification losses for mmpretrain heads.

mmpretrain's heads call ``loss(cls_score, target, avg_factor=..., **kwargs)`` with
``target`` the labels, or the samples' ``gt_score`` (soft targets from Mixup/CutMix).
``TimmLoss`` adapts any of ``timm.loss``: ``LabelSmoothingCrossEntropy`` (CE with
label smoothing), ``SoftTargetCrossEntropy`` (after Mixup/CutMix, which already
smooths), ``BinaryCrossEntropy`` (DeiT III: ``target_threshold=0.0`` turns mixed
targets into 0/1 ones, as the reference ``--bce-loss``).
"""
import torch.nn as nn
import timm.loss

from mmvision_ext.errors import ConfigError
from mmvision_ext.registry import MODELS

_TIMM_LOSSES = ('LabelSmoothingCrossEntropy', 'SoftTargetCrossEntropy', 'BinaryCrossEntropy')


@MODELS.register_module()
class TimmLoss(nn.Module):
    """One of timm's classification losses as an mmpretrain loss module:
    ``dict(type='TimmLoss', name='BinaryCrossEntropy', smoothing=0., target_threshold=0.)``.

    Args:
        name (str): ``'LabelSmoothingCrossEntropy'``, ``'SoftTargetCrossEntropy'`` or
            ``'BinaryCrossEntropy'``.
        loss_weight (float): factor on the loss. Default: 1.0.
        **kwargs: the timm loss's own arguments (``smoothing``, ``target_threshold``...).
    """

    def __init__(self, name, loss_weight=1.0, **kwargs):
        super().__init__()
        if name not in _TIMM_LOSSES:
            raise ConfigError(f'TimmLoss: unknown loss {name!r}; one of {_TIMM_LOSSES}')
        self.name = name
        self.loss_weight = loss_weight
        self.loss = getattr(timm.loss, name)(**kwargs)

    def forward(self, cls_score, target, avg_factor=None, **kwargs):
        if self.name == 'SoftTargetCrossEntropy' and target.dim() == 1:
            raise ConfigError('SoftTargetCrossEntropy needs soft targets: enable Mixup/CutMix '
                             'in the data preprocessor or use LabelSmoothingCrossEntropy')
        if self.name == 'LabelSmoothingCrossEntropy' and target.dim() == 2:
            raise ConfigError('LabelSmoothingCrossEntropy takes labels, but the batch has soft '
                             'targets (Mixup/CutMix): use SoftTargetCrossEntropy')
        return self.loss_weight * self.loss(cls_score, target)
