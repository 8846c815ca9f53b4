"""PatchConvNet (thesis ch. 5): a convolutional stem to stride 16, then a column of
residual conv blocks at one resolution; pooling by a single-head attention
layer lives in ``ClassAttentionClsHead``.

The trunk runs on (B, H, W, C) channels-last maps: the norm is a LayerNorm over
the last axis, the 1x1 convolutions are matmuls on it (on the CPU, oneDNN
convolutions of its NCHW view: faster there), and the depthwise 3x3 convolution
reads the same memory through a channels-last NCHW view. No
reshapes to tokens and back in each block, and any H, W works (square or not).
Parameters keep the official shapes and names, so official checkpoints load
as they are.
"""
import re

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmvision_ext.errors import ConfigError
from mmvision_ext.registry import MODELS
from ..layers import DropPath, InplaceGELU, grad_free, layer_scale_residual, maybe_checkpoint
from .base import IsotropicBackbone, check_image, official_depth


def _conv3x3_s2(cin, cout):
    # Wrapped in a Sequential, as in the official stem (keys ``proj.{0,2,4,6}.0.weight``).
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride=2, padding=1, bias=False))


class ConvStem(nn.Module):
    """Four 3x3 stride-2 convolutions (C/8, C/4, C/2, C), GELU between: stride 16.

    On the CPU, when no gradient is recorded, it runs a few images at a time: the
    first maps of a whole batch (77 MB at batch 32, 224x224, for PatchConvNet-S)
    exceed the caches and glibc's 32 MiB mmap threshold, so that every forward faults
    them in afresh. In chunks whose first map is at most ``chunk_bytes`` the memory
    is reused; the stem runs 1.45x as fast (docs/benchmarks.md).

    Args:
        in_channels (int): image channels.
        dim (int): C, the trunk's width.
    """
    chunk_bytes = 16 * 2**20

    def __init__(self, in_channels, dim):
        super().__init__()
        chans = [in_channels, dim // 8, dim // 4, dim // 2, dim]
        layers = []
        for i in range(4):
            layers.append(_conv3x3_s2(chans[i], chans[i + 1]))
            if i < 3:
                layers.append(InplaceGELU())
        self.proj = nn.Sequential(*layers)

    def forward(self, x):
        if x.device.type != 'cpu' or not grad_free(x, *self.parameters()):
            return self.proj(x)
        h, w = -(-x.shape[2] // 2), -(-x.shape[3] // 2)  # the first map's size
        first_map = self.proj[0][0].out_channels * h * w * x.element_size()
        chunks = -(-x.shape[0] // max(1, self.chunk_bytes // first_map))
        if chunks <= 1:  # one chunk, or an empty batch
            return self.proj(x)
        return torch.cat([self.proj(chunk) for chunk in x.tensor_split(chunks)])


class LinearStem(nn.Module):
    """Table 5.7's "conv-stem -> linear projection": one 16x16 stride-16 convolution, a
    linear map of each patch as in ViT. Like ViT's, it zero-pads the image's right and
    bottom to a multiple of 16, so that no border is left out: (ceil(H/16), ceil(W/16))
    patches, the grid of the convolutional stem.

    Args:
        in_channels (int): image channels.
        dim (int): the trunk's width.
    """

    def __init__(self, in_channels, dim):
        super().__init__()
        self.proj = nn.Conv2d(in_channels, dim, 16, stride=16)

    def forward(self, x):
        return self.proj(IsotropicBackbone.pad_to_patch_multiple(x, 16))


class PointwiseConv(nn.Conv2d):
    """A 1x1 convolution on a (B, H, W, C) map (or a (B, C) vector). Keeps
    ``nn.Conv2d``'s parameters, so official weights load.

    On GPUs (any device but the CPU), and for vectors, it runs as the matmul it is. On
    the CPU it runs as oneDNN's convolution on the map's channels-last NCHW view (no
    copy): measured 1.6x (training) and 2.1x (inference) the speed of the same product
    through ``F.linear`` for the trunk of PatchConvNet-S (docs/benchmarks.md).

    Args:
        in_channels (int): input channels.
        out_channels (int): output channels.
    """

    def __init__(self, in_channels, out_channels):
        super().__init__(in_channels, out_channels, 1)

    def forward(self, x):
        if x.dim() == 4 and x.device.type == 'cpu':
            return super().forward(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
        return F.linear(x, self.weight.flatten(1), self.bias)


class DepthwiseConv(nn.Conv2d):
    """A depthwise 3x3 convolution on a (B, H, W, C) map, read as a channels-last NCHW
    view (no copy).

    Args:
        dim (int): channels.
    """

    def __init__(self, dim):
        super().__init__(dim, dim, 3, padding=1, groups=dim)

    def forward(self, x):
        return super().forward(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)


class SqueezeExcite(nn.Module):
    """SE gate C -> C/4 -> C (ReLU, sigmoid) on channels-last maps. When no gradient is
    recorded it scales its input in place, as ``InplaceGELU`` activates it: a forward hook
    on the layers before it then sees their output gated.

    Args:
        dim (int): channels.
        rd_ratio (float): width of the gate's hidden layer over ``dim``. Default: 0.25.
    """

    def __init__(self, dim, rd_ratio=0.25):
        super().__init__()
        rd = round(dim * rd_ratio)
        self.conv_reduce = PointwiseConv(dim, rd)
        self.act = nn.ReLU()
        self.conv_expand = PointwiseConv(rd, dim)
        self.gate = nn.Sigmoid()

    def forward(self, x):  # (B, H, W, C)
        s = self.gate(self.conv_expand(self.act(self.conv_reduce(x.mean(dim=(1, 2))))))
        s = s[:, None, None, :]
        return x.mul_(s) if grad_free(x, s) else x * s


class ConvBlockSE(nn.Module):
    """1x1 conv -> GELU -> depthwise 3x3 -> GELU -> SE -> 1x1 conv on a (B, H, W, C) map
    (official key ``qkv_pos``: the block that replaces self-attention).

    Args:
        dim (int): channels.
    """

    def __init__(self, dim):
        super().__init__()
        self.qkv_pos = nn.Sequential(
            PointwiseConv(dim, dim), InplaceGELU(),
            DepthwiseConv(dim), InplaceGELU(),
            SqueezeExcite(dim),
            PointwiseConv(dim, dim))

    def forward(self, x):
        return self.qkv_pos(x)


class PatchConvBlock(nn.Module):
    """x += gamma_1 * ConvBlockSE(Norm(x)).

    Args:
        dim (int): channels.
        norm (str): ``'LN'`` (LayerNorm) or ``'BN'`` (BatchNorm, Table 5.8).
        drop_path (float): stochastic depth. Default: 0.
        layer_scale_init (float): LayerScale init. Default: 1e-6.
    """

    def __init__(self, dim, norm, drop_path=0., layer_scale_init=1e-6):
        super().__init__()
        # BatchNorm (Table 5.8) is a plain nn.BatchNorm2d run on the map's NCHW view, so
        # that sync_bn's conversion to SyncBatchNorm keeps normalising the channels.
        self.norm1 = nn.LayerNorm(dim, eps=1e-6) if norm == 'LN' else nn.BatchNorm2d(dim)
        self.norm_on_nchw = norm == 'BN'
        self.attn = ConvBlockSE(dim)
        self.drop_path = DropPath(drop_path) if drop_path > 0. else nn.Identity()
        self.gamma_1 = nn.Parameter(torch.full((dim,), float(layer_scale_init)))

    def forward(self, x):
        y = (self.norm1(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1) if self.norm_on_nchw
             else self.norm1(x))
        return layer_scale_residual(x, self.gamma_1, self.attn(y), self.drop_path)


def _pcn(embed_dims, depth, layer_scale_init=1e-6):
    return dict(patch_size=16, embed_dims=embed_dims, depth=depth,
                layer_scale_init=layer_scale_init)


@MODELS.register_module()
class PatchConvNet(IsotropicBackbone):
    """PatchConvNet trunk; any input size.

    Args:
        arch (str | dict): variant (``arch_zoo`` key) or a dict of its settings.
        in_channels (int): image channels. Default: 3.
        norm (str): ``'LN'`` (the released models) or ``'BN'`` (thesis Table 5.8).
        stem (str): ``'conv'``, the four-convolution stem (default), or ``'linear'``,
            a 16x16 patch projection (thesis Table 5.7's ablation).
        drop_path_rate (float): stochastic depth (the same rate in every block).
        **kwargs: the ``IsotropicBackbone`` arguments (out_indices, out_type,
            frozen_stages, with_cp, init_cfg).
    """
    family = 'patchconvnet'
    # The official attention-pooling stage is ClassAttentionClsHead here.
    official_head_keys = ('cls_token', 'blocks_token_only.', 'norm.', 'head.')
    # S20, S36 and B36 are the shallower models of thesis Table 5.8, not released: their
    # LayerScale init follows the released model of their width and nearest depth.
    arch_zoo = {
        's20': _pcn(384, 20, 1e-4),
        's36': _pcn(384, 36, 1e-4),
        's60': _pcn(384, 60, 1e-4),
        's120': _pcn(384, 120),
        'b36': _pcn(768, 36),
        'b60': _pcn(768, 60),
        'b120': _pcn(768, 120),
        'l60': _pcn(1024, 60),
        'l120': _pcn(1024, 120),
    }
    num_prefix_tokens = 0

    def __init__(self, arch='s60', in_channels=3, norm='LN', stem='conv', drop_path_rate=0.,
                 **kwargs):
        super().__init__(**kwargs)
        if norm not in ('LN', 'BN'):
            raise ConfigError(f"PatchConvNet: norm must be 'LN' or 'BN', got {norm!r}")
        if stem not in ('conv', 'linear'):
            raise ConfigError(f"PatchConvNet: stem must be 'conv' or 'linear', got {stem!r}")
        s = self.arch = self.get_arch(arch)
        if s['patch_size'] != 16:
            raise ConfigError(f"PatchConvNet: the convolutional stem has stride 16, so "
                             f"patch_size must be 16, got {s['patch_size']}")
        self.patch_size = s['patch_size']
        self.embed_dims = dim = s['embed_dims']
        self.patch_embed = (ConvStem if stem == 'conv' else LinearStem)(in_channels, dim)
        # The reference uses the same drop-path rate in every block.
        self.blocks = nn.ModuleList([
            PatchConvBlock(dim, norm, drop_path_rate, s['layer_scale_init'])
            for _ in range(s['depth'])])
        self.finish_init(s['depth'])

    def forward_blocks(self, x, out_indices=None):
        """(B, h, w, C) outputs of the blocks at ``out_indices`` (default
        ``self.out_indices``)."""
        check_image(x, 'PatchConvNet', self.patch_size)
        # The stem's maps at strides 2-8 are larger than the trunk's: with_cp covers it too.
        x = maybe_checkpoint(self.patch_embed, x.contiguous(memory_format=torch.channels_last),
                             self.with_cp)
        x = x.permute(0, 2, 3, 1)  # (B, h, w, C), contiguous thanks to channels_last
        return self.run_blocks(x, out_indices=out_indices)

    def forward(self, x):
        outs = self.forward_blocks(x)
        if self.out_type == 'featmap':
            return tuple(o.permute(0, 3, 1, 2) for o in outs)
        return tuple(o.flatten(1, 2) for o in outs)

    # --- official checkpoints (facebookresearch/deit's patchconvnet_models.py) -----
    @classmethod
    def is_official_checkpoint(cls, sd):
        return 'blocks.0.attn.qkv_pos.0.weight' in sd

    @classmethod
    def official_variant(cls, sd):
        multi_token = sd['cls_token'].shape[1] > 1  # one class token per class
        return dict(
            arch=cls.arch_of_shapes(sd['blocks.0.gamma_1'].shape[0], official_depth(sd), 16),
            num_classes=sd['cls_token'].shape[1] if multi_token else sd['head.weight'].shape[0],
            multi_token=multi_token,
            norm='BN' if 'blocks.0.norm1.running_mean' in sd else 'LN')

    @classmethod
    def classifier_overrides(cls, info):
        return dict(backbone=dict(norm=info.get('norm', 'LN')),
                    head=dict(num_classes=info['num_classes'],
                              multi_token=info.get('multi_token', False)))

    @classmethod
    def official_to_mmvx(cls, sd):
        # The official one-token-per-class head is K Linear(C, 1) units (head.<k>.*);
        # ours stacks them into one (K, C) layer.
        sd, units = dict(sd), {}
        for k in [k for k in sd if re.match(r'head\.\d+\.(weight|bias)$', k)]:
            _, idx, kind = k.split('.')
            units.setdefault(kind, {})[int(idx)] = sd.pop(k).reshape(1, -1)
        for kind, parts in units.items():
            stacked = torch.cat([parts[i] for i in sorted(parts)], dim=0)
            sd[f'head.{kind}'] = stacked if kind == 'weight' else stacked.flatten()
        return super().official_to_mmvx(sd)
