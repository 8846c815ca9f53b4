"""Building blocks shared by the isotropic backbones and their pooling heads.

Parameter names follow the official checkpoints (``gamma_1``, ``attn.qkv``,
``mlp.fc1`` ...) so that converting a checkpoint is a matter of prefixes.
timm provides the MLP, drop path and initialisers.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from timm.layers import DropPath, Mlp, trunc_normal_

__all__ = ['init_weights', 'Attention', 'TalkingHeadAttention', 'ClassAttention', 'ClassAttentionBlock',
           'LayerScaleBlock', 'Affine', 'DropPath', 'Mlp']


def init_weights(m):
    """timm-style initialisation: truncated-normal linear weights, zero biases, unit norms."""
    if isinstance(m, nn.Linear):
        trunc_normal_(m.weight, std=.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, (nn.LayerNorm, nn.BatchNorm2d, nn.GroupNorm)):
        nn.init.ones_(m.weight)
        nn.init.zeros_(m.bias)


class Attention(nn.Module):
    """Multi-head self-attention on fused scaled-dot-product kernels."""

    def __init__(self, dim, num_heads, qkv_bias=True, attn_drop=0., proj_drop=0.):
        super().__init__()
        if dim % num_heads:
            raise ValueError(f'dim {dim} is not divisible by num_heads {num_heads}')
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.attn_drop = attn_drop
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x):
        B, N, C = x.shape
        q, k, v = self.qkv(x).view(B, N, 3, self.num_heads, C // self.num_heads).permute(
            2, 0, 3, 1, 4).unbind(0)
        x = F.scaled_dot_product_attention(
            q, k, v, dropout_p=self.attn_drop if self.training else 0.)
        return self.proj_drop(self.proj(x.transpose(1, 2).reshape(B, N, C)))


class TalkingHeadAttention(nn.Module):
    """CaiT's self-attention: heads are mixed by linear maps before and after softmax.

    The head mixing makes fused attention kernels unusable; the mixes are done
    as batched matmuls over the head axis to avoid permuting the (B, H, N, N)
    attention tensor to channels-last and back.
    """

    def __init__(self, dim, num_heads, qkv_bias=True, attn_drop=0., proj_drop=0.):
        super().__init__()
        if dim % num_heads:
            raise ValueError(f'dim {dim} is not divisible by num_heads {num_heads}')
        self.num_heads = num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Linear(dim, dim)
        self.proj_l = nn.Linear(num_heads, num_heads)
        self.proj_w = nn.Linear(num_heads, num_heads)
        self.proj_drop = nn.Dropout(proj_drop)

    @staticmethod
    def _mix_heads(attn, linear):
        # out[b, g] = sum_h W[g, h] * attn[b, h] + bias[g]: one batched GEMM on the
        # contiguous (B, H, N*N) view, bias included, no copies of the attention.
        B, H, N, M = attn.shape
        out = torch.baddbmm(linear.bias.view(1, H, 1), linear.weight.expand(B, H, H),
                            attn.reshape(B, H, N * M))
        return out.view(B, H, N, M)

    def forward(self, x):
        B, N, C = x.shape
        q, k, v = self.qkv(x).view(B, N, 3, self.num_heads, C // self.num_heads).permute(
            2, 0, 3, 1, 4).unbind(0)
        attn = torch.matmul(q * self.scale, k.transpose(-2, -1))
        attn = self._mix_heads(attn, self.proj_l).softmax(dim=-1)
        attn = self.attn_drop(self._mix_heads(attn, self.proj_w))
        x = torch.matmul(attn, v).transpose(1, 2).reshape(B, N, C)
        return self.proj_drop(self.proj(x))


class ClassAttention(nn.Module):
    """Attention of class token(s) over the patches (CaiT, PatchConvNet pooling).

    With ``multi_token=False`` one class token attends to [cls, patches]
    (CaiT; PatchConvNet). With ``multi_token=True`` each of the T class tokens
    attends to the patches only (PatchConvNet's one-token-per-class option).
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
    """Updates only the class token(s): x_cls += g1 * CA(norm1([x_cls, x])); x_cls += g2 * MLP."""

    def __init__(self, dim, num_heads, mlp_ratio=4., qkv_bias=True, drop=0., attn_drop=0.,
                 drop_path=0., norm_layer=nn.LayerNorm, layer_scale_init=1e-5,
                 multi_token=False):
        super().__init__()
        self.norm1 = norm_layer(dim)
        self.attn = ClassAttention(dim, num_heads, qkv_bias, attn_drop, drop, multi_token)
        self.drop_path = DropPath(drop_path) if drop_path > 0. else nn.Identity()
        self.norm2 = norm_layer(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), act_layer=nn.GELU, drop=drop)
        self.gamma_1 = nn.Parameter(torch.full((dim,), float(layer_scale_init)))
        self.gamma_2 = nn.Parameter(torch.full((dim,), float(layer_scale_init)))

    def forward(self, x, x_cls):
        u = self.norm1(torch.cat((x_cls, x), dim=1))
        x_cls = x_cls + self.drop_path(self.gamma_1 * self.attn(u, x_cls.shape[1]))
        return x_cls + self.drop_path(self.gamma_2 * self.mlp(self.norm2(x_cls)))

    def attention_weights(self, x, x_cls):
        return self.attn.attention_weights(self.norm1(torch.cat((x_cls, x), dim=1)),
                                           x_cls.shape[1])


class LayerScaleBlock(nn.Module):
    """Pre-norm transformer block; LayerScale when ``layer_scale_init`` is set (None: plain ViT)."""

    def __init__(self, dim, num_heads, mlp_ratio=4., qkv_bias=True, drop=0., attn_drop=0.,
                 drop_path=0., norm_layer=nn.LayerNorm, layer_scale_init=None,
                 attn_layer=Attention):
        super().__init__()
        self.norm1 = norm_layer(dim)
        self.attn = attn_layer(dim, num_heads, qkv_bias, attn_drop, drop)
        self.drop_path = DropPath(drop_path) if drop_path > 0. else nn.Identity()
        self.norm2 = norm_layer(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), act_layer=nn.GELU, drop=drop)
        if layer_scale_init is None:
            self.gamma_1 = self.gamma_2 = None
        else:
            self.gamma_1 = nn.Parameter(torch.full((dim,), float(layer_scale_init)))
            self.gamma_2 = nn.Parameter(torch.full((dim,), float(layer_scale_init)))

    def forward(self, x):
        if self.gamma_1 is None:
            x = x + self.drop_path(self.attn(self.norm1(x)))
            return x + self.drop_path(self.mlp(self.norm2(x)))
        if isinstance(self.drop_path, nn.Identity):
            # Scale and residual add in one pass.
            x = torch.addcmul(x, self.gamma_1, self.attn(self.norm1(x)))
            return torch.addcmul(x, self.gamma_2, self.mlp(self.norm2(x)))
        x = x + self.drop_path(self.gamma_1 * self.attn(self.norm1(x)))
        return x + self.drop_path(self.gamma_2 * self.mlp(self.norm2(x)))


class Affine(nn.Module):
    """ResMLP's statistics-free normalisation: alpha * x + beta, per channel."""

    def __init__(self, dim, alpha_init=1.):
        super().__init__()
        self.alpha = nn.Parameter(torch.full((1, 1, dim), float(alpha_init)))
        self.beta = nn.Parameter(torch.zeros(1, 1, dim))

    def forward(self, x):
        return torch.addcmul(self.beta, self.alpha, x)
