"""ViT trained the DeiT III way (LayerScale) and the original DeiT (with distillation token).

DeiT III (thesis ch. 6): pre-norm blocks with LayerScale, constant drop path,
``pos_embed`` without a slot for the class token (added to the patches before
the class token is prepended). DeiT (thesis ch. 3): plain ViT blocks, linear
drop path, ``pos_embed`` covering the class (and distillation) tokens.
"""
import re

import torch
import torch.nn as nn
from timm.layers import trunc_normal_

from mmvision_ext.errors import ConfigError
from mmvision_ext.registry import MODELS
from ..layers import LayerScaleBlock, PatchEmbed, load_pos_embed_hook, resize_pos_embed
from .base import IsotropicBackbone, check_image, official_depth, official_grid


class _VisionTransformer(IsotropicBackbone):
    """Shared ViT trunk; the two registered families differ only in their table and flags."""
    embed_params = ('patch_embed', 'cls_token', 'dist_token', 'pos_embed', 'pos_drop')
    layer_scale = True           # LayerScale on both residual branches
    pos_embed_on_prefix = False  # True: pos_embed also has rows for the class/dist tokens
    drop_path_schedule = 'constant'  # or 'linear' in depth

    def __init__(self, arch='s', img_size=224, in_channels=3, distilled=False, drop_rate=0.,
                 attn_drop_rate=0., drop_path_rate=0., layer_scale_init=None, **kwargs):
        super().__init__(**kwargs)
        if layer_scale_init is not None and not self.layer_scale:
            raise ConfigError(f'{type(self).__name__} has no LayerScale, so no '
                              'layer_scale_init; DeiT3ViT has both')
        s = self.get_arch(arch)
        self.arch = s
        self.patch_size = p = s['patch_size']
        self.embed_dims = dim = s['embed_dims']
        depth = s['depth']
        _, self.grid_size = self.patch_grid(img_size, p)

        self.patch_embed = PatchEmbed(p, in_channels, dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.dist_token = nn.Parameter(torch.zeros(1, 1, dim)) if distilled else None
        self.num_prefix_tokens = 2 if distilled else 1
        num_pos = self.grid_size[0] * self.grid_size[1]
        num_pos += self.num_prefix_tokens if self.pos_embed_on_prefix else 0
        self.pos_embed = nn.Parameter(torch.zeros(1, num_pos, dim))
        self.pos_drop = nn.Dropout(drop_rate)

        if self.drop_path_schedule == 'linear':
            dpr = [drop_path_rate * i / max(depth - 1, 1) for i in range(depth)]
        else:
            dpr = [drop_path_rate] * depth
        ls_init = (layer_scale_init if layer_scale_init is not None
                   else s.get('layer_scale_init')) if self.layer_scale else None
        norm_layer = lambda d: nn.LayerNorm(d, eps=1e-6)  # noqa: E731
        self.blocks = nn.ModuleList([
            LayerScaleBlock(dim, s['num_heads'], s.get('mlp_ratio', 4.), qkv_bias=True,
                            drop=drop_rate, attn_drop=attn_drop_rate, drop_path=dpr[i],
                            norm_layer=norm_layer, layer_scale_init=ls_init)
            for i in range(depth)])
        self.norm = self.final_norm(norm_layer(dim), depth)

        self._register_load_state_dict_pre_hook(load_pos_embed_hook, with_module=True)
        trunc_normal_(self.pos_embed, std=.02)
        trunc_normal_(self.cls_token, std=.02)
        if self.dist_token is not None:
            trunc_normal_(self.dist_token, std=.02)
        self.finish_init(depth)

    def embed(self, x):
        """Images -> (B, T + N, C) tokens with position embeddings, and the grid (h, w)."""
        check_image(x, type(self).__name__, self.patch_size)
        x = self.patch_embed(self.pad_to_patch_multiple(x, self.patch_size))
        hw = x.shape[-2:]
        x = x.flatten(2).transpose(1, 2)
        prefix = [self.cls_token.expand(x.shape[0], -1, -1)]
        if self.dist_token is not None:
            prefix.append(self.dist_token.expand(x.shape[0], -1, -1))
        T = self.num_prefix_tokens if self.pos_embed_on_prefix else 0
        pos = resize_pos_embed(self.pos_embed, self.grid_size, hw, T)
        if self.pos_embed_on_prefix:
            x = torch.cat(prefix + [x], dim=1) + pos
        else:
            x = torch.cat(prefix + [x + pos], dim=1)
        return self.pos_drop(x), hw

    def forward(self, x):
        x, hw = self.embed(x)
        outs = self.run_blocks(x)
        if self.out_type == 'featmap':
            return tuple(self.tokens_to_maps(outs, hw, self.num_prefix_tokens))
        if self.norm is not None:
            outs[-1] = self.norm(outs[-1])
        return tuple(outs)

    # --- official checkpoints (facebookresearch/deit; timm's deit3_* and deit_*) ---
    @classmethod
    def is_official_checkpoint(cls, sd):
        if 'blocks.0.attn.qkv.weight' not in sd or 'blocks.0.attn.proj_l.weight' in sd:
            return False  # not a ViT, or CaiT (talking heads)
        has_layer_scale = 'blocks.0.gamma_1' in sd or 'blocks.0.ls1.gamma' in sd
        return has_layer_scale == cls.layer_scale

    @classmethod
    def official_key(cls, key):
        # timm calls LayerScale ``ls1.gamma``, the official code ``gamma_1``.
        return re.sub(r'\.ls([12])\.gamma$', r'.gamma_\1', key)

    @classmethod
    def official_variant(cls, sd):
        w = sd['patch_embed.proj.weight']
        distilled = 'dist_token' in sd
        num_pos = sd['pos_embed'].shape[1]
        if cls.pos_embed_on_prefix:
            num_pos -= 2 if distilled else 1
        return dict(arch=cls.arch_of_shapes(w.shape[0], official_depth(sd), w.shape[-1]),
                    num_classes=sd['head.weight'].shape[0], distilled=distilled,
                    img_size=official_grid(num_pos) * w.shape[-1])


def _vit(patch_size, embed_dims, depth, num_heads, **extra):
    return dict(patch_size=patch_size, embed_dims=embed_dims, depth=depth,
                num_heads=num_heads, **extra)


@MODELS.register_module()
class DeiT3ViT(_VisionTransformer):
    """ViT with LayerScale as trained by DeiT III (thesis ch. 6, Table 6.7).

    Args:
        arch (str | dict): variant (``arch_zoo`` key) or a dict of its settings.
        img_size (int | tuple): training size; position embeddings are resized for others.
        in_channels (int): image channels. Default: 3.
        drop_rate (float): dropout after the position embedding and in the MLPs.
        attn_drop_rate (float): dropout of the attention weights.
        drop_path_rate (float): stochastic depth (the same rate in every block).
        layer_scale_init (float, optional): LayerScale init; default the variant's.
        **kwargs: the ``IsotropicBackbone`` arguments (out_indices, out_type,
            frozen_stages, with_cp, init_cfg).
    """
    family = 'deit3'
    arch_zoo = {
        't': _vit(16, 192, 12, 3, layer_scale_init=1e-4),
        's': _vit(16, 384, 12, 6, layer_scale_init=1e-4),
        'm': _vit(16, 512, 12, 8, layer_scale_init=1e-4),
        'b': _vit(16, 768, 12, 12, layer_scale_init=1e-4),
        'l': _vit(16, 1024, 24, 16, layer_scale_init=1e-4),
        'h': _vit(14, 1280, 32, 16, layer_scale_init=1e-4),
    }

    def __init__(self, arch='s', **kwargs):
        if kwargs.get('distilled'):
            raise ConfigError('DeiT3ViT has no distillation token; use DeiTViT(distilled=True)')
        super().__init__(arch, **kwargs)


@MODELS.register_module()
class DeiTViT(_VisionTransformer):
    """The original DeiT ViT (thesis ch. 3, Table 3.1), optionally with a distillation token.

    Args:
        arch (str | dict): variant (``arch_zoo`` key) or a dict of its settings.
        img_size (int | tuple): training size; position embeddings are resized for others.
        in_channels (int): image channels. Default: 3.
        distilled (bool): add DeiT's distillation token. Default: False.
        drop_rate (float): dropout after the position embedding and in the MLPs.
        attn_drop_rate (float): dropout of the attention weights.
        drop_path_rate (float): stochastic depth of the last block (rising linearly
            from 0 with depth).
        **kwargs: the ``IsotropicBackbone`` arguments (out_indices, out_type,
            frozen_stages, with_cp, init_cfg).
    """
    family = 'deit'
    arch_zoo = {
        't': _vit(16, 192, 12, 3),
        's': _vit(16, 384, 12, 6),
        'b': _vit(16, 768, 12, 12),
    }
    layer_scale = False
    pos_embed_on_prefix = True
    drop_path_schedule = 'linear'
    official_head_keys = ('head.', 'head_dist.')

    @classmethod
    def classifier_config_name(cls, info):
        distilled = '_distilled' if info.get('distilled') else ''
        return f'cls_deit_{info["arch"]}{distilled}_in1k.py'
