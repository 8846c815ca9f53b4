"""UperNet's decode head with gradient checkpointing.

mmseg's ``UPerHead`` keeps, for the backward pass, the outputs of the convolution and
of the norm of each of its conv blocks: at stride 4 and 512 channels these maps are
most of a UperNet's activation memory once the backbone is checkpointed.
"""
import torch
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads import UPerHead

from mmvision_ext.registry import MODELS
from .layers import checkpointed


class CheckpointedConvModule(ConvModule):
    """mmcv's ``ConvModule`` (conv, norm, activation) whose intermediate maps are
    recomputed in the backward pass instead of kept, in training
    (``mmvision_ext.models.layers.checkpointed``); the same parameters, keys and hooks.

    Args:
        *args, **kwargs: ``ConvModule``'s arguments.
    """

    def forward(self, x, activate=True, norm=True):
        if self.training and torch.is_grad_enabled():
            return checkpointed(super().forward, self, x, activate, norm)
        return super().forward(x, activate, norm)


@MODELS.register_module()
class UPerHeadWithCP(UPerHead):
    """mmseg's ``UPerHead``, with gradient checkpointing of each of its conv blocks
    (lateral, pyramid-pooling, FPN and fusion convolutions) when ``with_cp`` is set.

    Args:
        with_cp (bool): checkpoint the conv blocks (read when the head is built).
            Default: False.
        **kwargs: ``UPerHead``'s arguments (``pool_scales``, ``in_channels``,
            ``channels``, ``num_classes``, ...).
    """

    def __init__(self, with_cp=False, **kwargs):
        super().__init__(**kwargs)
        self.with_cp = with_cp
        if with_cp:
            for module in self.modules():
                if type(module) is ConvModule:
                    # UPerHead builds its ConvModules itself; giving each the subclass
                    # keeps its parameters, state-dict keys and hooks as they are.
                    module.__class__ = CheckpointedConvModule
