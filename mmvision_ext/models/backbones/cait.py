"""CaiT (thesis ch. 3): a LayerScale ViT trunk with talking-heads attention and no
class token.

The class token enters later, in CaiT's class-attention stage, which is
``ClassAttentionClsHead`` (models/heads/cls_heads.py, blocks from models/layers.py):
it only pools the patches into the class token, so in mmpretrain's backbone / head
split it is the head, and the same trunk feeds UperNet and Mask R-CNN without it.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from timm.layers import trunc_normal_

from mmvision_ext.registry import MODELS
from ..layers import (Attention, LayerScaleBlock, PatchEmbed, load_pos_embed_hook,
                      resize_pos_embed)
from .base import IsotropicBackbone, check_image, official_depth, official_grid


class HeadMix(nn.Linear):
    """A linear map across the heads of a (B, H, N, M) attention tensor, with
    ``nn.Linear``'s parameters (official keys ``proj_l`` / ``proj_w``).

    out[b, g] = sum_h W[g, h] * attn[b, h] + bias[g], as one batched GEMM on the
    contiguous (B, H, N*M) view, bias included: no permute of the attention tensor to
    channels-last and back, which ``nn.Linear`` on its last axis would need.

    Args:
        num_heads (int): heads mixed.
    """

    def __init__(self, num_heads):
        super().__init__(num_heads, num_heads)

    def forward(self, attn):
        B, H, N, M = attn.shape
        out = torch.baddbmm(self.bias.view(1, H, 1), self.weight.expand(B, H, H),
                            attn.reshape(B, H, N * M))
        return out.view(B, H, N, M)


class TalkingHeadAttention(Attention):
    """CaiT's self-attention: ``Attention`` with its heads mixed by linear maps before and
    after softmax (which makes fused attention kernels unusable).

    Args:
        dim (int): token width.
        num_heads (int): attention heads.
        qkv_bias (bool): bias in the query/key/value projection. Default: True.
        attn_drop (float): dropout of the attention weights. Default: 0.
        proj_drop (float): dropout after the output projection. Default: 0.
    """

    def __init__(self, dim, num_heads, qkv_bias=True, attn_drop=0., proj_drop=0.):
        super().__init__(dim, num_heads, qkv_bias, attn_drop, proj_drop)
        self.scale = (dim // num_heads) ** -0.5
        self.proj_l = HeadMix(num_heads)
        self.proj_w = HeadMix(num_heads)

    def forward(self, x):
        B, N, C = x.shape
        q, k, v = self.split_heads(x)
        attn = torch.matmul(q * self.scale, k.transpose(-2, -1))
        attn = F.dropout(self.proj_w(self.proj_l(attn).softmax(dim=-1)), self.attn_drop,
                         self.training)
        x = torch.matmul(attn, v).transpose(1, 2).reshape(B, N, C)
        return self.proj_drop(self.proj(x))


def _cait(embed_dims, depth, num_heads, layer_scale_init):
    return dict(patch_size=16, embed_dims=embed_dims, depth=depth, num_heads=num_heads,
                layer_scale_init=layer_scale_init)


@MODELS.register_module()
class CaiT(IsotropicBackbone):
    """CaiT trunk (self-attention stage). Head dim 48; LayerScale init per Table 3.15.

    Args:
        arch (str | dict): variant (``arch_zoo`` key) or a dict of its settings.
        img_size (int | tuple): training size; position embeddings are resized for others.
        in_channels (int): image channels. Default: 3.
        drop_rate (float): dropout after the position embedding and in the MLPs.
        attn_drop_rate (float): dropout of the attention weights.
        drop_path_rate (float): stochastic depth (the same rate in every block).
        **kwargs: the ``IsotropicBackbone`` arguments (out_indices, out_type,
            frozen_stages, with_cp, init_cfg).
    """
    arch_zoo = {
        'xxs24': _cait(192, 24, 4, 1e-5),
        'xxs36': _cait(192, 36, 4, 1e-6),
        'xs24': _cait(288, 24, 6, 1e-5),
        'xs36': _cait(288, 36, 6, 1e-6),
        's24': _cait(384, 24, 8, 1e-5),
        's36': _cait(384, 36, 8, 1e-6),
        's48': _cait(384, 48, 8, 1e-6),
        'm24': _cait(768, 24, 16, 1e-5),
        'm36': _cait(768, 36, 16, 1e-6),
        'm48': _cait(768, 48, 16, 1e-6),
    }
    family = 'cait'
    embed_params = ('patch_embed', 'pos_embed', 'pos_drop')
    num_prefix_tokens = 0
    # The official model's class-attention stage is ClassAttentionClsHead here.
    official_head_keys = ('cls_token', 'blocks_token_only.', 'norm.', 'head.')

    def __init__(self, arch='xxs24', img_size=224, in_channels=3, drop_rate=0.,
                 attn_drop_rate=0., drop_path_rate=0., **kwargs):
        super().__init__(**kwargs)
        s = self.arch = self.get_arch(arch)
        self.patch_size = p = s['patch_size']
        self.embed_dims = dim = s['embed_dims']
        _, self.grid_size = self.patch_grid(img_size, p)
        self.patch_embed = PatchEmbed(p, in_channels, dim)
        self.pos_embed = nn.Parameter(torch.zeros(1, self.grid_size[0] * self.grid_size[1], dim))
        self.pos_drop = nn.Dropout(drop_rate)
        norm_layer = lambda d: nn.LayerNorm(d, eps=1e-6)  # noqa: E731
        # CaiT uses the same drop-path rate in every block.
        self.blocks = nn.ModuleList([
            LayerScaleBlock(dim, s['num_heads'], 4., qkv_bias=True, drop=drop_rate,
                            attn_drop=attn_drop_rate, drop_path=drop_path_rate,
                            norm_layer=norm_layer, layer_scale_init=s['layer_scale_init'],
                            attn_layer=TalkingHeadAttention)
            for _ in range(s['depth'])])
        self._register_load_state_dict_pre_hook(load_pos_embed_hook, with_module=True)
        trunc_normal_(self.pos_embed, std=.02)
        self.finish_init(s['depth'])

    def forward(self, x):
        check_image(x, 'CaiT', self.patch_size)
        x = self.patch_embed(self.pad_to_patch_multiple(x, self.patch_size))
        hw = x.shape[-2:]
        # Contiguous (B, N, C) tokens: layouts propagate, and the linears want this one.
        x = x.flatten(2).transpose(1, 2).contiguous() + resize_pos_embed(self.pos_embed, self.grid_size, hw)
        outs = self.run_blocks(self.pos_drop(x))
        if self.out_type == 'featmap':
            return tuple(self.tokens_to_maps(outs, hw))
        return tuple(outs)

    # --- official checkpoints (facebookresearch/deit's cait_models.py, timm's cait_*) ---
    @classmethod
    def is_official_checkpoint(cls, sd):
        return 'blocks.0.attn.proj_l.weight' in sd

    @classmethod
    def official_variant(cls, sd):
        w = sd['patch_embed.proj.weight']
        return dict(arch=cls.arch_of_shapes(w.shape[0], official_depth(sd), w.shape[-1]),
                    num_classes=sd['head.weight'].shape[0],
                    img_size=official_grid(sd['pos_embed'].shape[1]) * w.shape[-1])
