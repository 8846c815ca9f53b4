"""What every isotropic backbone of the project shares: variant tables, output
selection, frozen stages, gradient checkpointing, layer ids for lr decay, and the
interface through which ``mmvision_ext.converters`` reads each family's official
checkpoints."""
import re
from collections import OrderedDict
from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmvision_ext.errors import ConfigError, ConversionError
from ..layers import init_weights, maybe_checkpoint

OUT_TYPES = ('featmap', 'tokens')


class IsotropicBackbone(BaseModule):
    """Base class of the backbones: one token resolution through ``self.blocks``.

    Subclasses declare ``arch_zoo`` (variant name -> settings), build
    ``self.blocks`` and implement ``forward``. Outputs, one per index of
    ``out_indices`` (block indices, negative counting from the end):

    - ``out_type='featmap'``: (B, C, ceil(H/p), ceil(W/p)) maps for dense heads;
    - ``out_type='tokens'``: (B, T + N, C) token sequences for classification
      heads (T prefix tokens), the last block's through the final norm if the
      family has one in its trunk.

    Args:
        out_indices (int | Sequence[int]): blocks whose outputs are returned (negative
            counts from the end). Default: -1.
        out_type (str): ``'featmap'`` (B, C, h, w) maps or ``'tokens'`` (B, N, C).
        frozen_stages (int): freeze the embedding and the first ``frozen_stages``
            blocks (-1: nothing). Default: -1.
        with_cp (bool): gradient checkpointing of every block (and of PatchConvNet's
            convolutional stem). Default: False.
        init_cfg (dict, optional): mmengine initialisation, e.g. a pretrained checkpoint.
    """
    arch_zoo: dict = {}
    # Names of the embedding's modules and parameters: layer id 0, and frozen (the
    # modules put in eval mode, their dropout included) with frozen_stages >= 0.
    embed_params: tuple = ('patch_embed',)
    # Name of the family in config names (``configs/cls_<family>_<arch>_in1k.py``).
    family: str = ''
    # Keys of the official classifier that this project keeps in the head
    # (pooling and classifier); the rest are the backbone's.
    official_head_keys: tuple = ('head.',)

    def __init__(self, out_indices=-1, out_type='featmap', frozen_stages=-1,
                 with_cp=False, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if out_type not in OUT_TYPES:
            raise ConfigError(f'{type(self).__name__}: out_type must be one of {OUT_TYPES}, '
                             f'got {out_type!r}')
        self.out_type = out_type
        self.frozen_stages = frozen_stages
        self.with_cp = with_cp
        self._out_indices_arg = out_indices

    @classmethod
    def get_arch(cls, arch):
        """Settings of a variant name (case-insensitive) or a full settings dict."""
        if isinstance(arch, dict):
            missing = set(next(iter(cls.arch_zoo.values()))) - set(arch)
            if missing:
                raise ConfigError(f'{cls.__name__}: custom arch is missing {sorted(missing)}')
            return dict(arch)
        key = str(arch).lower()
        if key not in cls.arch_zoo:
            raise ConfigError(f'{cls.__name__}: unknown variant {arch!r}; '
                             f'choose one of {", ".join(cls.arch_zoo)}')
        return dict(cls.arch_zoo[key])

    def finish_init(self, depth):
        """End of every backbone's ``__init__``, once ``self.blocks`` exists: resolve
        ``out_indices`` against ``depth`` blocks, initialise the weights (timm's scheme)
        and freeze the stages ``frozen_stages`` asks for."""
        self._set_out_indices(depth)
        self.apply(init_weights)
        self._freeze_stages()

    def _set_out_indices(self, depth):
        self.out_indices = self._resolve_out_indices(depth)
        self.num_layers = depth

    def _resolve_out_indices(self, depth):
        idx = self._out_indices_arg
        idx = [idx] if isinstance(idx, int) else list(idx)
        for i in idx:
            if not -depth <= i < depth:
                raise ConfigError(f'{type(self).__name__}: out index {i} out of range for '
                                 f'{depth} blocks')
        return tuple(sorted({i % depth for i in idx}))

    def final_norm(self, norm, depth):
        """``norm`` if an output goes through it, else None. A trunk's final norm is for
        classification heads (the last block's tokens); dense maps and intermediate
        tokens skip it, and a parameter that no output depends on would get no gradient,
        which stops distributed training (DDP without ``find_unused_parameters``,
        mmengine's default)."""
        ends_at_last_block = self._resolve_out_indices(depth)[-1] == depth - 1
        return norm if self.out_type == 'tokens' and ends_at_last_block else None

    def patch_grid(self, img_size, patch_size):
        """(H, W) of ``img_size`` (int or pair) and its grid of patches; both sides must be
        whole numbers of patches, since position embeddings / token mixers are sized by it."""
        img_size = (img_size, img_size) if isinstance(img_size, int) else tuple(img_size)
        if img_size[0] % patch_size or img_size[1] % patch_size:
            raise ConfigError(f'{type(self).__name__}: img_size {img_size} must be divisible by '
                             f'the patch size {patch_size}')
        return img_size, (img_size[0] // patch_size, img_size[1] // patch_size)

    # --- running the trunk ----------------------------------------------------
    def run_blocks(self, x, blocks=None, out_indices=None):
        """Run ``blocks`` (default ``self.blocks``); return the outputs at ``out_indices``
        (default ``self.out_indices``; sorted block indices)."""
        blocks = self.blocks if blocks is None else blocks
        out_indices = self.out_indices if out_indices is None else out_indices
        last = out_indices[-1]
        outs = []
        for i, blk in enumerate(blocks):
            x = maybe_checkpoint(blk, x, self.with_cp)
            if i in out_indices:
                outs.append(x)
            if i == last:  # nothing after the last requested output is needed
                break
        return outs

    @staticmethod
    def pad_to_patch_multiple(x, patch_size):
        """Zero-pad right/bottom so H and W are multiples of the patch size."""
        H, W = x.shape[-2:]
        ph, pw = (-H) % patch_size, (-W) % patch_size
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph))
        return x

    # --- fine-tuning options --------------------------------------------------
    def _embed_modules(self):
        return [getattr(self, name) for name in self.embed_params
                if isinstance(getattr(self, name, None), nn.Module)]

    def _embed_parameters(self):
        return [getattr(self, name) for name in self.embed_params
                if isinstance(getattr(self, name, None), nn.Parameter)]

    def _freeze_stages(self):
        """``frozen_stages=k``: freeze the embedding (k >= 0) and the first k blocks."""
        if self.frozen_stages < 0:
            return
        modules = self._embed_modules() + list(self.blocks[:self.frozen_stages])
        for m in modules:
            m.eval()
            for p in m.parameters():
                p.requires_grad = False
        for p in self._embed_parameters():
            p.requires_grad = False

    def train(self, mode=True):
        super().train(mode)
        self._freeze_stages()
        return self

    def get_layer_depth(self, param_name: str, prefix: str = ''):
        """Layer id of a parameter for layer-wise lr decay, and the number of ids.

        Embedding -> 0, ``blocks.i`` -> i + 1, everything after the trunk ->
        depth + 1 (mmpretrain's ``LearningRateDecayOptimWrapperConstructor`` convention).
        """
        num_ids = self.num_layers + 2
        if not param_name.startswith(prefix):
            return num_ids - 1, num_ids
        name = param_name[len(prefix):]
        if name.split('.')[0] in self.embed_params:
            return 0, num_ids
        if name.startswith('blocks.'):
            return int(name.split('.')[1]) + 1, num_ids
        return num_ids - 1, num_ids

    def tokens_to_maps(self, outs, hw: Sequence[int], num_prefix_tokens=0):
        """(B, T + N, C) token outputs -> (B, C, h, w) maps, dropping the prefix tokens."""
        h, w = hw
        return [x[:, num_prefix_tokens:].transpose(1, 2).reshape(x.shape[0], -1, h, w)
                for x in outs]

    def extra_repr(self):
        return f'out_indices={self.out_indices}, out_type={self.out_type!r}'

    # --- official checkpoints ---------------------------------------------------
    # facebookresearch/deit and timm release each family under the official module
    # names; the backbones keep those names, so conversion is a split into
    # ``backbone.*`` / ``head.*`` plus the few renames and reshapes a family declares.
    @classmethod
    def is_official_checkpoint(cls, sd) -> bool:
        """Whether the unwrapped state dict ``sd`` is an official or timm model of this
        family."""
        return False

    @classmethod
    def official_key(cls, key: str) -> str:
        """A key of timm's release of the family, renamed to the official one."""
        return key

    @classmethod
    def official_variant(cls, sd) -> dict:
        """What an official-layout state dict says about its model: ``arch``,
        ``num_classes`` and the family's flags (``img_size``, ``distilled``, ...)."""
        raise NotImplementedError

    @classmethod
    def official_to_mmvx(cls, sd):
        """An official-layout state dict as ``backbone.*`` / ``head.*`` keys."""
        return OrderedDict(
            (('head.' if k.startswith(cls.official_head_keys) else 'backbone.') + k, v)
            for k, v in sd.items())

    @classmethod
    def classifier_config_name(cls, info) -> str:
        """The config whose classifier an ``official_variant`` result builds."""
        return f'cls_{cls.family}_{info["arch"]}_in1k.py'

    @classmethod
    def classifier_overrides(cls, info) -> dict:
        """``backbone`` / ``head`` settings that differ from that config's model."""
        return dict(backbone=dict(img_size=info['img_size']) if info.get('img_size') else {},
                    head=dict(num_classes=info['num_classes']))

    @classmethod
    def arch_of_shapes(cls, embed_dims, depth, patch_size):
        """The variant of ``arch_zoo`` with these shapes."""
        for name, s in cls.arch_zoo.items():
            if (s['embed_dims'], s['depth'], s['patch_size']) == (embed_dims, depth, patch_size):
                return name
        raise ConversionError(
            f'no {cls.family} variant has width {embed_dims}, depth {depth} and patch '
            f'{patch_size}; known: {", ".join(cls.arch_zoo)}')


def official_depth(sd):
    """Number of trunk blocks (``blocks.<i>.*`` keys) in a state dict."""
    return 1 + max(int(k.split('.')[1]) for k in sd if re.match(r'blocks\.\d+\.', k))


def official_grid(num_tokens):
    """Side of the square patch grid of ``num_tokens`` position / mixing rows."""
    side = int(round(num_tokens ** 0.5))
    if side * side != num_tokens:
        raise ConversionError(f'{num_tokens} position tokens are not a square grid')
    return side


def check_image(x: torch.Tensor, name: str, patch_size: int = 1):
    if x.dim() != 4:
        raise ValueError(f'{name}: expected a (B, C, H, W) image batch, got shape '
                         f'{tuple(x.shape)}')
    if x.shape[-2] < patch_size or x.shape[-1] < patch_size:
        raise ConfigError(f'{name}: a {x.shape[-2]}x{x.shape[-1]} image is smaller than one '
                         f'{patch_size}x{patch_size} patch')
