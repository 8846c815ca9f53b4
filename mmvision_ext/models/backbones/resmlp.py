"""ResMLP (thesis ch. 4): residual blocks of a cross-patch linear layer and a
per-patch MLP, with Affine in place of every normalisation. No class token, no
position embedding; the cross-patch layer ties the model to its training grid."""
import re

import torch
import torch.nn as nn

from mmvision_ext.errors import ConfigError
from mmvision_ext.registry import MODELS
from ..layers import DropPath, InplaceGELU, Mlp, PatchEmbed, layer_scale_residual
from .base import IsotropicBackbone, check_image, official_depth, official_grid


class Affine(nn.Module):
    """ResMLP's statistics-free normalisation: alpha * x + beta, per channel.

    Args:
        dim (int): channels.
        alpha_init (float): initial alpha. Default: 1.
    """

    def __init__(self, dim, alpha_init=1.):
        super().__init__()
        self.alpha = nn.Parameter(torch.full((1, 1, dim), float(alpha_init)))
        self.beta = nn.Parameter(torch.zeros(1, 1, dim))

    def forward(self, x):
        return torch.addcmul(self.beta, self.alpha, x)


class CrossPatchLinear(nn.Linear):
    """ResMLP's cross-patch layer: ``nn.Linear(N, N)`` along the patch axis of (B, N, C)
    tokens, computed as ``bias + W @ x`` per image with one batched matmul, so the tokens
    are never transposed (twice as fast on the CPU as Linear on a transposed view).
    Keeps ``nn.Linear``'s parameters, so official weights load.

    Args:
        num_patches (int): N, the patches mixed.
    """

    def __init__(self, num_patches):
        super().__init__(num_patches, num_patches)

    def forward(self, x):  # (B, N, C)
        B = x.shape[0]
        return torch.baddbmm(self.bias[None, :, None], self.weight.expand(B, -1, -1), x)


class CrossPatchMLP(nn.Module):
    """Table 4.3's "linear -> MLP" patch communication: an MLP of hidden width 4N along
    the patch axis of (B, N, C) tokens.

    Args:
        num_patches (int): N, the patches mixed.
    """

    def __init__(self, num_patches):
        super().__init__()
        self.mlp = Mlp(num_patches, 4 * num_patches, act_layer=InplaceGELU)

    def forward(self, x):  # (B, N, C)
        return self.mlp(x.transpose(1, 2)).transpose(1, 2)


class PatchConv(nn.Module):
    """Table 4.3's convolutional patch communication on the (H, W) grid of patches:
    ``'conv3x3'`` (full), ``'dwconv3x3'`` (depth-wise) or ``'dwsepconv3x3'`` (depth-wise
    then point-wise).

    Args:
        dim (int): channels.
        grid_size (tuple[int, int]): (H, W) of the patch grid.
        kind (str): one of the three above.
    """

    def __init__(self, dim, grid_size, kind):
        super().__init__()
        self.grid_size = tuple(grid_size)
        groups = 1 if kind == 'conv3x3' else dim
        self.conv = nn.Conv2d(dim, dim, 3, padding=1, groups=groups)
        self.pointwise = nn.Conv2d(dim, dim, 1) if kind == 'dwsepconv3x3' else nn.Identity()

    def forward(self, x):  # (B, N, C)
        B, N, C = x.shape
        x = x.transpose(1, 2).reshape(B, C, *self.grid_size)
        return self.pointwise(self.conv(x)).flatten(2).transpose(1, 2)


# Patch communication of the blocks (thesis Table 4.3); 'linear' is ResMLP's.
PATCH_MIXING = ('linear', 'none', 'mlp', 'conv3x3', 'dwconv3x3', 'dwsepconv3x3')
# The normalisation of the blocks and of the trunk's end; 'affine' is ResMLP's.
NORM_LAYERS = {'affine': Affine, 'layernorm': nn.LayerNorm}


class ResMLPBlock(nn.Module):
    """x += g1 * Linear_NxN(Aff(x)) over patches; x += g2 * MLP(Aff(x)) per patch.

    ``patch_mixing`` replaces the cross-patch linear layer (Table 4.3's ablations;
    ``'none'`` removes that residual branch), ``norm='layernorm'`` the Affines.

    Args:
        dim (int): channels.
        grid_size (tuple[int, int]): (H, W) of the patch grid.
        drop (float): dropout in the MLP. Default: 0.
        drop_path (float): stochastic depth of both branches. Default: 0.
        layer_scale_init (float): LayerScale init. Default: 1e-4.
        patch_mixing (str): one of ``PATCH_MIXING``. Default: ``'linear'``.
        norm (str): ``'affine'`` or ``'layernorm'``. Default: ``'affine'``.
    """

    def __init__(self, dim, grid_size, drop=0., drop_path=0., layer_scale_init=1e-4,
                 patch_mixing='linear', norm='affine'):
        super().__init__()
        num_patches = grid_size[0] * grid_size[1]
        norm_layer = NORM_LAYERS[norm]
        if patch_mixing == 'none':
            self.attn = None
        else:
            self.norm1 = norm_layer(dim)
            self.attn = (  # "token mixing"
                CrossPatchLinear(num_patches) if patch_mixing == 'linear' else
                CrossPatchMLP(num_patches) if patch_mixing == 'mlp' else
                PatchConv(dim, grid_size, patch_mixing))
            self.gamma_1 = nn.Parameter(torch.full((dim,), float(layer_scale_init)))
        self.drop_path = DropPath(drop_path) if drop_path > 0. else nn.Identity()
        self.norm2 = norm_layer(dim)
        self.mlp = Mlp(dim, 4 * dim, act_layer=InplaceGELU, drop=drop)
        self.gamma_2 = nn.Parameter(torch.full((dim,), float(layer_scale_init)))

    def forward(self, x):  # (B, N, C)
        if self.attn is not None:
            x = layer_scale_residual(x, self.gamma_1, self.attn(self.norm1(x)), self.drop_path)
        return layer_scale_residual(x, self.gamma_2, self.mlp(self.norm2(x)), self.drop_path)


def _resmlp(patch_size, embed_dims, depth, layer_scale_init):
    return dict(patch_size=patch_size, embed_dims=embed_dims, depth=depth,
                layer_scale_init=layer_scale_init)


@MODELS.register_module()
class ResMLP(IsotropicBackbone):
    """ResMLP trunk; ``norm`` (final Affine) applies to the last block's tokens.

    Args:
        arch (str | dict): variant (``arch_zoo`` key) or a dict of its settings.
        img_size (int | tuple): the input size, which the cross-patch layers fix.
        in_channels (int): image channels. Default: 3.
        drop_rate (float): dropout in the MLPs.
        drop_path_rate (float): stochastic depth (the same rate in every block).
        patch_mixing (str): the blocks' patch communication, one of ``PATCH_MIXING``:
            ResMLP's ``'linear'`` (default) or an ablation of thesis Table 4.3.
        norm (str): ``'affine'`` (default) or ``'layernorm'`` (Table 4.3's ablation),
            in the blocks and at the end of the trunk.
        **kwargs: the ``IsotropicBackbone`` arguments (out_indices, out_type,
            frozen_stages, with_cp, init_cfg).
    """
    family = 'resmlp'
    # LayerScale init "as a function of the depth by following CaiT" (section 4.3.1:
    # 0.1 to depth 18, 1e-5 at 24, 1e-6 deeper); the B models take the official code's
    # 1e-6 at depth 24, with which their released weights were trained.
    arch_zoo = {
        's12': _resmlp(16, 384, 12, 0.1),
        's24': _resmlp(16, 384, 24, 1e-5),
        's36': _resmlp(16, 384, 36, 1e-6),
        'b24': _resmlp(16, 768, 24, 1e-6),
        's12p8': _resmlp(8, 384, 12, 0.1),
        'b24p8': _resmlp(8, 768, 24, 1e-6),
    }
    num_prefix_tokens = 0

    def __init__(self, arch='s12', img_size=224, in_channels=3, drop_rate=0.,
                 drop_path_rate=0., patch_mixing='linear', norm='affine', **kwargs):
        super().__init__(**kwargs)
        if patch_mixing not in PATCH_MIXING:
            raise ConfigError(f'ResMLP: patch_mixing must be one of {PATCH_MIXING}, '
                              f'got {patch_mixing!r}')
        if norm not in NORM_LAYERS:
            raise ConfigError(f'ResMLP: norm must be one of {tuple(NORM_LAYERS)}, got {norm!r}')
        s = self.arch = self.get_arch(arch)
        self.patch_size = p = s['patch_size']
        self.embed_dims = dim = s['embed_dims']
        self.img_size, self.grid_size = self.patch_grid(img_size, p)
        self.patch_embed = PatchEmbed(p, in_channels, dim)
        # ResMLP uses the same drop-path rate in every block.
        self.blocks = nn.ModuleList([
            ResMLPBlock(dim, self.grid_size, drop_rate, drop_path_rate, s['layer_scale_init'],
                        patch_mixing, norm)
            for _ in range(s['depth'])])
        self.norm = self.final_norm(NORM_LAYERS[norm](dim), s['depth'])
        self.finish_init(s['depth'])

    def forward(self, x):
        check_image(x, 'ResMLP')
        if tuple(x.shape[-2:]) != self.img_size:
            H, W = self.img_size
            raise ConfigError(
                f'ResMLP: input is {x.shape[-2]}x{x.shape[-1]} but this model\'s cross-patch '
                f'layer is tied to a {self.grid_size[0]}x{self.grid_size[1]} grid of '
                f'{self.patch_size}px patches, i.e. {H}x{W} inputs. Resize to {H}x{W}, '
                f'or for dense prediction use {H}x{W} crops with sliding-window inference '
                f"(mmseg: test_cfg=dict(mode='slide', crop_size=({H}, {W}), stride=...)).")
        x = self.patch_embed(x)
        hw = x.shape[-2:]
        # Contiguous (B, N, C) tokens: layouts propagate, and the linears want this one.
        outs = self.run_blocks(x.flatten(2).transpose(1, 2).contiguous())
        if self.out_type == 'featmap':
            return tuple(self.tokens_to_maps(outs, hw))
        if self.norm is not None:
            outs[-1] = self.norm(outs[-1])
        return tuple(outs)

    # --- official checkpoints (facebookresearch/deit's resmlp_models.py, timm's resmlp_*) ---
    @classmethod
    def is_official_checkpoint(cls, sd):
        return 'blocks.0.norm1.alpha' in sd

    @classmethod
    def official_key(cls, key):
        # timm's names for the stem, the cross-patch layer, the MLP and LayerScale.
        key = key.replace('stem.', 'patch_embed.').replace('.linear_tokens.', '.attn.')
        key = key.replace('.mlp_channels.', '.mlp.')
        return re.sub(r'\.ls([12])$', r'.gamma_\1', key)

    @classmethod
    def official_variant(cls, sd):
        w = sd['patch_embed.proj.weight']
        grid = official_grid(sd['blocks.0.attn.weight'].shape[0])
        return dict(arch=cls.arch_of_shapes(w.shape[0], official_depth(sd), w.shape[-1]),
                    num_classes=sd['head.weight'].shape[0], img_size=grid * w.shape[-1])

    @classmethod
    def official_to_mmvx(cls, sd):
        # Official Affine parameters are (C,); ours broadcast over (B, N, C) tokens.
        return super().official_to_mmvx(
            {k: v.reshape(1, 1, -1) if k.endswith(('.alpha', '.beta')) else v
             for k, v in sd.items()})
