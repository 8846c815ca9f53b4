"""Classification heads of the five families, on mmpretrain's ``ClsHead``.

They read the last backbone output in ``out_type='tokens'`` form, (B, T + N, C):

- ``TokenPoolClsHead``: class token (ViT, DeiT III) or average of the patches (ResMLP).
- ``DistilledClsHead``: DeiT's class and distillation heads, averaged at inference.
- ``ClassAttentionClsHead``: class token(s) pooled by class-attention blocks, then
  norm and linear: CaiT (2 blocks, multi-head) and PatchConvNet (1 single-head
  block, MLP ratio 3, optionally one token per class).
- ``ClassMLPClsHead``: ResMLP's class-MLP pooling (thesis 4.2, T4.3), class-attention
  with the attention replaced by a linear aggregation over the tokens.
"""
import torch
import torch.nn as nn
from mmpretrain.models.heads import ClsHead
from timm.layers import trunc_normal_

from mmvision_ext.errors import ConfigError
from mmvision_ext.registry import MODELS
from ..backbones.resmlp import Affine
from ..layers import ClassAttentionBlock, InplaceGELU, init_weights, Mlp


@MODELS.register_module()
class TokenPoolClsHead(ClsHead):
    """Linear classifier on the class token (``pool='cls'``) or the mean of all tokens
    (``'avg'``: for token-free trunks such as ResMLP, the mean patch).

    Args:
        num_classes (int): classes.
        in_channels (int): token width.
        pool (str): ``'cls'`` (ViT, DeiT III) or ``'avg'`` (ResMLP). Default: ``'cls'``.
        drop_rate (float): dropout before the classifier.
        **kwargs: mmpretrain's ``ClsHead`` arguments (loss, topk, cal_acc, init_cfg).
    """

    def __init__(self, num_classes, in_channels, pool='cls', drop_rate=0., **kwargs):
        super().__init__(**kwargs)
        if pool not in ('cls', 'avg'):
            raise ConfigError(f"TokenPoolClsHead: pool must be 'cls' or 'avg', got {pool!r}")
        self.pool = pool
        self.drop = nn.Dropout(drop_rate)
        self.head = nn.Linear(in_channels, num_classes)
        self.apply(init_weights)

    def pre_logits(self, feats):
        x = feats[-1]
        return x[:, 0] if self.pool == 'cls' else x.mean(dim=1)

    def forward(self, feats):
        return self.head(self.drop(self.pre_logits(feats)))


@MODELS.register_module()
class DistilledClsHead(ClsHead):
    """DeiT's two heads: ``head`` on the class token, ``head_dist`` on the distillation
    token. Inference fuses them late (mean of the logits). Without a teacher both are
    trained on the labels; the distillation losses belong to the distiller.

    Args:
        num_classes (int): classes.
        in_channels (int): token width.
        **kwargs: mmpretrain's ``ClsHead`` arguments (loss, topk, cal_acc, init_cfg).
    """

    def __init__(self, num_classes, in_channels, **kwargs):
        super().__init__(**kwargs)
        self.head = nn.Linear(in_channels, num_classes)
        self.head_dist = nn.Linear(in_channels, num_classes)
        self.apply(init_weights)

    def pre_logits(self, feats):
        return feats[-1][:, 0], feats[-1][:, 1]

    def forward_both(self, feats):
        """(class-token logits, distillation-token logits)."""
        x_cls, x_dist = self.pre_logits(feats)
        return self.head(x_cls), self.head_dist(x_dist)

    def forward(self, feats):
        logits, logits_dist = self.forward_both(feats)
        return (logits + logits_dist) / 2

    def loss(self, feats, data_samples, **kwargs):
        logits, logits_dist = self.forward_both(feats)
        losses = self._get_loss(logits, data_samples, **kwargs)
        losses['loss'] = (losses['loss'] + self._get_loss(
            logits_dist, data_samples, **kwargs)['loss']) / 2
        return losses


class PerClassLinear(nn.Linear):
    """Scores one class token per class, token k by its own linear unit k:
    (B, num_classes, C) -> (B, num_classes). Row k of the weight is the official
    per-class ``Linear(C, 1)`` unit k (PatchConvNet's multi-token head, thesis T5.7).

    Args:
        in_channels (int): token width.
        num_classes (int): classes, one token and one unit each.
    """

    def forward(self, x):
        return (x * self.weight).sum(-1) + self.bias


@MODELS.register_module()
class ClassAttentionClsHead(ClsHead):
    """Class-attention pooling then classifier (keys as the official
    ``cls_token``, ``blocks_token_only``, ``norm``, ``head``).

    Args:
        num_classes, in_channels: classifier size and token width.
        num_heads: heads of the class attention (CaiT: the trunk's; PatchConvNet: 1).
        depth: class-attention blocks (CaiT 2, PatchConvNet 1).
        mlp_ratio: MLP width of those blocks (CaiT 4, PatchConvNet 3).
        layer_scale_init: LayerScale init of those blocks.
        multi_token: one class token per class, each scored by its own linear
            unit (PatchConvNet's per-class attention maps, thesis T5.7).
        drop_rate, attn_drop_rate: dropout in those blocks' MLP and attention weights.
        **kwargs: mmpretrain's ``ClsHead`` arguments (loss, topk, cal_acc, init_cfg).
    """

    def __init__(self, num_classes, in_channels, num_heads=1, depth=1, mlp_ratio=4.,
                 layer_scale_init=1e-5, multi_token=False, drop_rate=0., attn_drop_rate=0.,
                 **kwargs):
        super().__init__(**kwargs)
        self.num_classes = num_classes
        self.multi_token = multi_token
        num_tokens = num_classes if multi_token else 1
        self.cls_token = nn.Parameter(torch.zeros(1, num_tokens, in_channels))
        self.blocks_token_only = nn.ModuleList([
            ClassAttentionBlock(in_channels, num_heads, mlp_ratio, qkv_bias=True,
                                drop=drop_rate, attn_drop=attn_drop_rate,
                                norm_layer=lambda d: nn.LayerNorm(d, eps=1e-6),
                                layer_scale_init=layer_scale_init, multi_token=multi_token)
            for _ in range(depth)])
        self.norm = nn.LayerNorm(in_channels, eps=1e-6)
        self.head = (PerClassLinear(in_channels, num_classes) if multi_token
                     else nn.Linear(in_channels, num_classes))
        trunc_normal_(self.cls_token, std=.02)
        self.apply(init_weights)

    def pre_logits(self, feats):
        x = feats[-1]
        x_cls = self.cls_token.expand(x.shape[0], -1, -1)
        for blk in self.blocks_token_only:
            x_cls = blk(x, x_cls)
        x_cls = self.norm(x_cls)  # per-token norm: the same as norm([cls, x])[:, :T]
        return x_cls if self.multi_token else x_cls[:, 0]

    def forward(self, feats):
        return self.head(self.pre_logits(feats))

    @torch.no_grad()
    def attention_maps(self, feats, hw, block=-1):
        """Attention of the class token(s) over the patches in class-attention block
        ``block``: (B, heads, h, w), or (B, num_classes, h, w) with ``multi_token``."""
        x = feats[-1]
        x_cls = self.cls_token.expand(x.shape[0], -1, -1)
        blocks = list(self.blocks_token_only)
        if not -len(blocks) <= block < len(blocks):
            raise ValueError(f'block {block} is out of range: the head has {len(blocks)} '
                             f'class-attention blocks (0 to {len(blocks) - 1}, or -1 for the '
                             'last)')
        target = blocks[block]
        for blk in blocks:
            if blk is target:
                attn = blk.attention_weights(x, x_cls)  # (B, heads, T, keys)
                break
            x_cls = blk(x, x_cls)
        B, h, w = x.shape[0], hw[0], hw[1]
        if self.multi_token:
            return attn.mean(1).reshape(B, -1, h, w)
        return attn[:, :, 0, 1:].reshape(B, -1, h, w)


class ClassMLPBlock(nn.Module):
    """Updates only the class token, the patches stay frozen:
    cls += g1 * Linear_{N+1 -> 1}(Aff([cls, patches])) over the tokens, per channel;
    cls += g2 * MLP(Aff(cls)).

    Args:
        dim (int): token width.
        num_patches (int): patch tokens aggregated (the grid is fixed, as in ResMLP).
        layer_scale_init (float): LayerScale init of both branches. Default: 1e-4.
        drop (float): dropout in the MLP. Default: 0.
    """

    def __init__(self, dim, num_patches, layer_scale_init=1e-4, drop=0.):
        super().__init__()
        self.norm1 = Affine(dim)
        self.attn = nn.Linear(num_patches + 1, 1)  # the aggregation, in place of attention
        self.norm2 = Affine(dim)
        self.mlp = Mlp(dim, 4 * dim, act_layer=InplaceGELU, drop=drop)
        self.gamma_1 = nn.Parameter(torch.full((dim,), float(layer_scale_init)))
        self.gamma_2 = nn.Parameter(torch.full((dim,), float(layer_scale_init)))

    def forward(self, x, x_cls):
        u = self.norm1(torch.cat([x_cls, x], dim=1))  # (B, 1 + N, C)
        x_cls = x_cls + self.gamma_1 * self.attn(u.transpose(1, 2)).transpose(1, 2)
        return x_cls + self.gamma_2 * self.mlp(self.norm2(x_cls))


@MODELS.register_module()
class ClassMLPClsHead(ClsHead):
    """ResMLP's class-MLP pooling: a class token updated by ``depth`` class-MLP blocks
    over the frozen patches, then Affine and linear.

    The thesis describes the blocks in words only (CaiT's class-attention with the
    class/patch interaction done by linear layers after a linear aggregation of the
    patches; no code was released). Our reading, a per-channel Linear(N + 1, 1) over
    [class token, patches] then the usual MLP, in 2 blocks, gives ResMLP-S12 with
    class-MLP 17.7 M parameters as in Table 4.3.

    Args:
        num_classes, in_channels: classifier size and token width.
        num_patches: patch tokens the aggregation is tied to (196 at 224 / 16),
            like ResMLP's cross-patch layers.
        depth: class-MLP blocks (2, as CaiT's class-attention).
        layer_scale_init: LayerScale init of those blocks.
        drop_rate: dropout in those blocks' MLPs.
        **kwargs: mmpretrain's ``ClsHead`` arguments (loss, topk, cal_acc, init_cfg).
    """

    def __init__(self, num_classes, in_channels, num_patches=196, depth=2,
                 layer_scale_init=1e-4, drop_rate=0., **kwargs):
        super().__init__(**kwargs)
        self.num_patches = num_patches
        self.cls_token = nn.Parameter(torch.zeros(1, 1, in_channels))
        self.blocks_token_only = nn.ModuleList([
            ClassMLPBlock(in_channels, num_patches, layer_scale_init, drop_rate)
            for _ in range(depth)])
        self.norm = Affine(in_channels)
        self.head = nn.Linear(in_channels, num_classes)
        trunc_normal_(self.cls_token, std=.02)
        self.apply(init_weights)

    def pre_logits(self, feats):
        x = feats[-1]
        if x.shape[1] != self.num_patches:
            raise ConfigError(
                f'ClassMLPClsHead: built for {self.num_patches} patch tokens, got '
                f'{x.shape[1]}; set num_patches to the backbone\'s grid '
                '(img_size / patch_size) ** 2')
        x_cls = self.cls_token.expand(x.shape[0], -1, -1)
        for blk in self.blocks_token_only:
            x_cls = blk(x, x_cls)
        return self.norm(x_cls)[:, 0]

    def forward(self, feats):
        return self.head(self.pre_logits(feats))
