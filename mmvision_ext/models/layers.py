"""Building blocks shared by the isotropic backbones and their pooling heads.

Parameter names follow the official checkpoints (``gamma_1``, ``attn.qkv``,
``mlp.fc1`` ...) so that converting a checkpoint is a matter of prefixes.
timm provides the MLP, drop path and initialisers.
"""
import contextlib
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from timm.layers import DropPath, Mlp, trunc_normal_
from torch.utils.checkpoint import checkpoint

from mmvision_ext.errors import ConfigError

__all__ = ['init_weights', 'grad_free', 'InplaceGELU', 'layer_scale_residual', 'checkpointed',
           'maybe_checkpoint', 'PatchEmbed', 'resize_pos_embed', 'load_pos_embed_hook', 'Attention',
           'ClassAttention', 'ClassAttentionBlock', 'LayerScaleBlock', 'DropPath', 'Mlp']


def init_weights(m):
    """timm-style initialisation: truncated-normal linear weights, zero biases, unit norms."""
    if isinstance(m, nn.Linear):
        trunc_normal_(m.weight, std=.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, (nn.LayerNorm, nn.BatchNorm2d, nn.GroupNorm)):
        nn.init.ones_(m.weight)
        nn.init.zeros_(m.bias)


def grad_free(*tensors):
    """Whether no gradient is recorded through ``tensors`` (inference, ``no_grad``, frozen
    layers, the first pass of a checkpointed segment): then they may be overwritten."""
    return not (torch.is_grad_enabled() and any(t.requires_grad for t in tensors))


class InplaceGELU(nn.GELU):
    """``nn.GELU`` that overwrites its input when no gradient is recorded through it, as
    timm's and torchvision's ``ReLU(inplace=True)`` do: one map-sized allocation (and,
    for large maps, its page faults) less per activation. While training it is
    ``nn.GELU``, whose backward needs the input. A forward hook on the layer before it
    sees its output overwritten in inference, as with any in-place activation.

    Args:
        approximate (str): ``'none'`` (exact, the default) or ``'tanh'``, as in ``nn.GELU``.
    """

    def forward(self, x):
        if grad_free(x):
            return torch.ops.aten.gelu_(x, approximate=self.approximate)
        return super().forward(x)


def layer_scale_residual(x, gamma, y, drop_path):
    """``x + drop_path(gamma * y)`` (``x + drop_path(y)`` when ``gamma`` is None) in one
    pass over the map, ``addcmul``. Stochastic depth keeps or drops whole samples: its
    per-sample factor (0 or 1 / keep rate), ``drop_path`` applied to ones of shape
    (B, 1, ...), multiplies ``gamma`` instead of the branch's map: in training, two map-sized
    products and their intermediate results less per residual than timm's blocks.

    Args:
        x (Tensor): the residual stream.
        gamma (Tensor, optional): LayerScale's per-channel factors.
        y (Tensor): the branch's output, shaped like ``x``.
        drop_path (nn.Module): ``DropPath`` or ``nn.Identity``.
    """
    if isinstance(drop_path, nn.Identity) or not drop_path.training:
        return x + y if gamma is None else torch.addcmul(x, gamma, y)
    # In the dtype of the product timm's blocks would drop (fp32 LayerScale under autocast).
    dtype = y.dtype if gamma is None else torch.promote_types(gamma.dtype, y.dtype)
    keep = drop_path(y.new_ones((y.shape[0],) + (1,) * (y.dim() - 1), dtype=dtype))
    return torch.addcmul(x, keep if gamma is None else gamma * keep, y)


class _RunningStatsKept:
    """Context of a recomputation: momentum 0 makes batch norms normalise with the
    batch's statistics and leave their running ones as they are; the batch counter is
    put back. Entered once per recomputation (a graph can be backpropagated twice)."""

    def __init__(self, norms):
        self.norms = norms

    def __enter__(self):
        self.saved = [(n, n.momentum, n.num_batches_tracked.clone()) for n in self.norms]
        for norm in self.norms:
            norm.momentum = 0.0

    def __exit__(self, *exc):
        for norm, momentum, count in self.saved:
            norm.momentum = momentum
            norm.num_batches_tracked.copy_(count)


def _tracking_norms(module):
    # torch's batch norms and any other norm with the same running-statistics interface
    # (mmcv's own SyncBatchNorm is not a torch _BatchNorm).
    return [m for m in module.modules()
            if m.training and getattr(m, 'track_running_stats', False)
            and isinstance(getattr(m, 'num_batches_tracked', None), torch.Tensor)
            and hasattr(m, 'momentum')]


def checkpointed(fn, module, *args):
    """``fn(*args)``, the forward of ``module``, under gradient checkpointing: the
    activations inside are not kept for the backward pass but recomputed there. The
    batch norms of ``module`` are recomputed with the batch's statistics without
    updating their running statistics again, so buffers end as without checkpointing
    (``torch.utils.checkpoint`` alone, as mmcv and timm use it, updates them twice).

    Args:
        fn (callable): what to run, ``module`` or a method of it.
        module (nn.Module): whose batch norms ``fn`` runs.
        *args: the inputs of ``fn``.
    """
    norms = _tracking_norms(module)
    # Compiled graphs recompute only what the backward pass needs, without the norms'
    # buffer updates; torch.compile takes no context of ours there.
    if not norms or torch.compiler.is_compiling():
        return checkpoint(fn, *args, use_reentrant=False)
    return checkpoint(fn, *args, use_reentrant=False,
                      context_fn=lambda: (contextlib.nullcontext(), _RunningStatsKept(norms)))


def maybe_checkpoint(module, x, with_cp):
    """``module(x)``, through ``checkpointed`` when ``with_cp`` is set, in training with
    gradients on: less memory for one more forward of ``module``.

    Args:
        module (nn.Module): the module to run.
        x (Tensor): its input.
        with_cp (bool): checkpoint it.
    """
    if with_cp and module.training and torch.is_grad_enabled():
        return checkpointed(module, module, x)
    return module(x)


class PatchEmbed(nn.Module):
    """Non-overlapping patches by a strided convolution (key ``patch_embed.proj``).

    Args:
        patch_size (int): side of the patches, and the stride.
        in_channels (int): image channels.
        dim (int): token width.
    """

    def __init__(self, patch_size, in_channels, dim):
        super().__init__()
        self.proj = nn.Conv2d(in_channels, dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x):
        return self.proj(x)


def resize_pos_embed(pos_embed, old_hw, new_hw, num_prefix_tokens=0):
    """Bicubically resize the grid part of (1, T + h*w, C) position embeddings."""
    if tuple(old_hw) == tuple(new_hw):
        return pos_embed
    prefix, grid = pos_embed[:, :num_prefix_tokens], pos_embed[:, num_prefix_tokens:]
    C = grid.shape[-1]
    grid = grid.reshape(1, old_hw[0], old_hw[1], C).permute(0, 3, 1, 2)
    grid = F.interpolate(grid.float(), size=tuple(new_hw), mode='bicubic', align_corners=False)
    grid = grid.to(pos_embed.dtype).permute(0, 2, 3, 1).reshape(1, -1, C)
    return torch.cat((prefix, grid), dim=1)


def load_pos_embed_hook(module, state_dict, prefix, *args):
    """Load-state-dict pre-hook: a checkpoint trained at another resolution (224 weights
    into a 384 model) gets its square ``pos_embed`` grid resized bicubically to the
    model's, as for the thesis' fine-tuning at higher resolution."""
    key = prefix + 'pos_embed'
    if key not in state_dict or state_dict[key].shape == module.pos_embed.shape:
        return
    T = module.num_prefix_tokens if getattr(module, 'pos_embed_on_prefix', False) else 0
    side = math.isqrt(state_dict[key].shape[1] - T)
    if side * side != state_dict[key].shape[1] - T:
        return  # not a square grid: let load_state_dict report the mismatch
    state_dict[key] = resize_pos_embed(state_dict[key], (side, side), module.grid_size, T)


class Attention(nn.Module):
    """Multi-head self-attention on fused scaled-dot-product kernels.

    Args:
        dim (int): token width.
        num_heads (int): attention heads.
        qkv_bias (bool): bias in the query/key/value projection. Default: True.
        attn_drop (float): dropout of the attention weights. Default: 0.
        proj_drop (float): dropout after the output projection. Default: 0.
    """

    def __init__(self, dim, num_heads, qkv_bias=True, attn_drop=0., proj_drop=0.):
        super().__init__()
        if dim % num_heads:
            raise ConfigError(f'dim {dim} is not divisible by num_heads {num_heads}')
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.attn_drop = attn_drop
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)

    def split_heads(self, x):
        """(B, N, C) tokens -> queries, keys, values, each (B, heads, N, C / heads)."""
        B, N, C = x.shape
        return self.qkv(x).view(B, N, 3, self.num_heads, C // self.num_heads).permute(
            2, 0, 3, 1, 4).unbind(0)

    def forward(self, x):
        B, N, C = x.shape
        q, k, v = self.split_heads(x)
        x = F.scaled_dot_product_attention(
            q, k, v, dropout_p=self.attn_drop if self.training else 0.)
        return self.proj_drop(self.proj(x.transpose(1, 2).reshape(B, N, C)))


class ClassAttention(nn.Module):
    """Attention of class token(s) over the patches (CaiT, PatchConvNet pooling).

    With ``multi_token=False`` one class token attends to [cls, patches]
    (CaiT; PatchConvNet). With ``multi_token=True`` each of the T class tokens
    attends to the patches only (PatchConvNet's one-token-per-class option).

    Args:
        dim (int): token width.
        num_heads (int): attention heads.
        qkv_bias (bool): bias in the query/key/value projections. Default: True.
        attn_drop (float): dropout of the attention weights. Default: 0.
        proj_drop (float): dropout after the output projection. Default: 0.
        multi_token (bool): see above. Default: False.
    """

    def __init__(self, dim, num_heads, qkv_bias=True, attn_drop=0., proj_drop=0.,
                 multi_token=False):
        super().__init__()
        self.num_heads = num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.multi_token = multi_token
        self.q = nn.Linear(dim, dim, bias=qkv_bias)
        self.k = nn.Linear(dim, dim, bias=qkv_bias)
        self.v = nn.Linear(dim, dim, bias=qkv_bias)
        self.attn_drop = attn_drop
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)

    def _qkv(self, x, num_tokens):
        B, N, C = x.shape
        h, d = self.num_heads, C // self.num_heads
        kv_in = x[:, num_tokens:] if self.multi_token else x
        q = self.q(x[:, :num_tokens]).view(B, num_tokens, h, d).transpose(1, 2)
        k = self.k(kv_in).view(B, -1, h, d).transpose(1, 2)
        v = self.v(kv_in).view(B, -1, h, d).transpose(1, 2)
        return q, k, v

    def forward(self, x, num_tokens=1):
        """x: (B, T + N, C) with the T class tokens first; returns (B, T, C)."""
        q, k, v = self._qkv(x, num_tokens)
        out = F.scaled_dot_product_attention(
            q, k, v, dropout_p=self.attn_drop if self.training else 0.)
        out = out.transpose(1, 2).reshape(x.shape[0], num_tokens, x.shape[2])
        return self.proj_drop(self.proj(out))

    def attention_weights(self, x, num_tokens=1):
        """Softmax weights (B, heads, T, keys), keys being [cls, patches] or patches."""
        q, k, _ = self._qkv(x, num_tokens)
        return torch.matmul(q * self.scale, k.transpose(-2, -1)).softmax(dim=-1)


class ClassAttentionBlock(nn.Module):
    """Updates only the class token(s): x_cls += g1 * CA(norm1([x_cls, x])); x_cls += g2 * MLP.
    No stochastic depth: the official class-attention stages have none.

    Args:
        dim (int): token width.
        num_heads (int): attention heads.
        mlp_ratio (float): MLP width over ``dim``. Default: 4.
        qkv_bias (bool): bias in the query/key/value projections. Default: True.
        drop (float): dropout after the attention projection and in the MLP. Default: 0.
        attn_drop (float): dropout of the attention weights. Default: 0.
        norm_layer (callable): builds the two norms from ``dim``. Default: LayerNorm.
        layer_scale_init (float): LayerScale init of both branches. Default: 1e-5.
        multi_token (bool): several class tokens, each attending to the patches only.
            Default: False.
    """

    def __init__(self, dim, num_heads, mlp_ratio=4., qkv_bias=True, drop=0., attn_drop=0.,
                 norm_layer=nn.LayerNorm, layer_scale_init=1e-5, multi_token=False):
        super().__init__()
        self.norm1 = norm_layer(dim)
        self.attn = ClassAttention(dim, num_heads, qkv_bias, attn_drop, drop, multi_token)
        self.norm2 = norm_layer(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), act_layer=InplaceGELU, drop=drop)
        self.gamma_1 = nn.Parameter(torch.full((dim,), float(layer_scale_init)))
        self.gamma_2 = nn.Parameter(torch.full((dim,), float(layer_scale_init)))

    def forward(self, x, x_cls):
        u = self.norm1(torch.cat((x_cls, x), dim=1))
        x_cls = x_cls + self.gamma_1 * self.attn(u, x_cls.shape[1])
        return x_cls + self.gamma_2 * self.mlp(self.norm2(x_cls))

    def attention_weights(self, x, x_cls):
        return self.attn.attention_weights(self.norm1(torch.cat((x_cls, x), dim=1)),
                                           x_cls.shape[1])


class LayerScaleBlock(nn.Module):
    """Pre-norm transformer block; LayerScale when ``layer_scale_init`` is set (None: plain ViT).

    Args:
        dim (int): token width.
        num_heads (int): attention heads.
        mlp_ratio (float): MLP width over ``dim``. Default: 4.
        qkv_bias (bool): bias in the query/key/value projection. Default: True.
        drop (float): dropout after the attention projection and in the MLP. Default: 0.
        attn_drop (float): dropout of the attention weights. Default: 0.
        drop_path (float): stochastic depth of both branches. Default: 0.
        norm_layer (callable): builds the two norms from ``dim``. Default: LayerNorm.
        layer_scale_init (float, optional): LayerScale init. Default: None.
        attn_layer (type): the attention module (CaiT: talking heads). Default:
            ``Attention``.
    """

    def __init__(self, dim, num_heads, mlp_ratio=4., qkv_bias=True, drop=0., attn_drop=0.,
                 drop_path=0., norm_layer=nn.LayerNorm, layer_scale_init=None,
                 attn_layer=Attention):
        super().__init__()
        self.norm1 = norm_layer(dim)
        self.attn = attn_layer(dim, num_heads, qkv_bias, attn_drop, drop)
        self.drop_path = DropPath(drop_path) if drop_path > 0. else nn.Identity()
        self.norm2 = norm_layer(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), act_layer=InplaceGELU, drop=drop)
        if layer_scale_init is None:
            self.gamma_1 = self.gamma_2 = None
        else:
            self.gamma_1 = nn.Parameter(torch.full((dim,), float(layer_scale_init)))
            self.gamma_2 = nn.Parameter(torch.full((dim,), float(layer_scale_init)))

    def forward(self, x):
        x = layer_scale_residual(x, self.gamma_1, self.attn(self.norm1(x)), self.drop_path)
        return layer_scale_residual(x, self.gamma_2, self.mlp(self.norm2(x)), self.drop_path)
