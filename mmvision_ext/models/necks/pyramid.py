"""The neck that turns an isotropic backbone's stride-16 maps into a 4-level pyramid
(strides 4, 8, 16, 32), as XCiT's dense-prediction setup does (thesis §4.3.6, §5.3.3, §6.3.5.2)."""
import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule

from mmvision_ext.errors import ConfigError
from mmvision_ext.registry import MODELS
from ..layers import InplaceGELU, maybe_checkpoint


@MODELS.register_module()
class IsotropicPyramidNeck(BaseModule):
    """Level 1: two 2x2 transposed convs with norm + GELU between (stride 4);
    level 2: one transposed conv (stride 8); level 3: identity (stride 16);
    level 4: 2x2 max-pool (stride 32).

    Args:
        in_channels: channels of the backbone maps.
        num_inputs: 4 maps from 4 blocks (ViT, CaiT, ResMLP), or 1 map used at
            every level (PatchConvNet, which uses only its final output).
        norm_cfg: norm between the two transposed convs (SyncBN for multi-GPU).
        with_cp: gradient checkpointing of level 1, whose stride-8 maps inside are
            what the neck would otherwise keep for the backward pass. Default: False.
        init_cfg: mmengine initialisation.
    """

    def __init__(self, in_channels, num_inputs=4, norm_cfg=dict(type='SyncBN', requires_grad=True),
                 with_cp=False, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if num_inputs not in (1, 4):
            raise ConfigError(f'IsotropicPyramidNeck: num_inputs must be 1 or 4, got {num_inputs}')
        self.num_inputs = num_inputs
        self.with_cp = with_cp
        c = in_channels
        self.fpn1 = nn.Sequential(
            nn.ConvTranspose2d(c, c, kernel_size=2, stride=2),
            build_norm_layer(norm_cfg, c)[1],
            InplaceGELU(),
            nn.ConvTranspose2d(c, c, kernel_size=2, stride=2))
        self.fpn2 = nn.ConvTranspose2d(c, c, kernel_size=2, stride=2)
        self.fpn3 = nn.Identity()
        self.fpn4 = nn.MaxPool2d(kernel_size=2, stride=2)

    def forward(self, inputs):
        if len(inputs) != self.num_inputs:
            raise ConfigError(f'IsotropicPyramidNeck expects {self.num_inputs} backbone maps, got '
                             f'{len(inputs)}: set the backbone out_indices accordingly')
        h, w = inputs[0].shape[-2:]
        if h < 2 or w < 2:
            raise ConfigError(
                f'IsotropicPyramidNeck: a {h}x{w} backbone map is too small for the stride-32 '
                'level (it needs at least 2x2, i.e. images of at least 32x32 pixels for '
                'stride-16 backbones); resize or pad the input')
        inputs = list(inputs) * (4 // self.num_inputs)
        return (maybe_checkpoint(self.fpn1, inputs[0], self.with_cp), self.fpn2(inputs[1]),
                self.fpn3(inputs[2]), self.fpn4(inputs[3]))
