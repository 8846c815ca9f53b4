"""The thesis' models that timm lacks, in timm's registry.

``import mmvision_ext`` registers PatchConvNet (thesis ch. 5) with timm, so that

    timm.create_model('patchconvnet_s60_224', pretrained=True,
                      pretrained_cfg_overlay=dict(file='patchconvnet_s60_in1k.pth'))

builds the same network as ``configs/cls_patchconvnet_s60_in1k.py`` (backbone and
class-attention head are this project's modules, built from that config) and loads a
checkpoint of this project (a training checkpoint as MMEngine writes it, or a converted
one) or an official one (converted on the fly), always with ``weights_only=True``. The model follows timm's interface: ``forward_features``,
``forward_head``, ``reset_classifier``, ``forward_intermediates`` and
``features_only=True``.

The other families are timm's own (``deit3_*``, ``deit_*``, ``cait_*``,
``resmlp_*``), and their checkpoints load into timm as they are.
"""
from typing import List, Optional, Tuple, Union

import timm
import torch
import torch.nn as nn
from timm.models import build_model_with_cfg, generate_default_cfgs, register_model

from mmvision_ext.registry import MODELS

# timm's register_model appends each entrypoint's name to __all__.
__all__ = ['PatchConvNetClassifier', 'PATCHCONVNET_ARCHS']

PATCHCONVNET_ARCHS = ('s60', 's120', 'b60', 'b120', 'l60', 'l120')


class PatchConvNetClassifier(nn.Module):
    """PatchConvNet trunk + attention-pooling head with timm's model interface.

    Args:
        arch (str): variant, one of ``PATCHCONVNET_ARCHS``.
        num_classes (int): classes of the classifier; 0 leaves the pooled features.
        in_chans (int): image channels.
        drop_path_rate (float, optional): stochastic depth of every block; default the
            variant's ImageNet-1k recipe value.
        norm (str): ``'LN'`` (released models) or ``'BN'``.
        multi_token (bool): one class token per class (thesis Table 5.7).
        global_pool (str): timm's argument, kept for its interface; the pooling is the
            attention-based one.
    """

    def __init__(self, arch='s60', num_classes=1000, in_chans=3, drop_path_rate=None,
                 norm='LN', multi_token=False, global_pool='token'):
        super().__init__()
        from mmvision_ext.converters import model_config
        cfg = model_config(dict(family='patchconvnet', arch=arch,
                                num_classes=max(num_classes, 1), norm=norm,
                                multi_token=multi_token))
        cfg['backbone'].update(in_channels=in_chans, out_type='tokens')
        if drop_path_rate is not None:
            cfg['backbone']['drop_path_rate'] = drop_path_rate
        self.backbone = MODELS.build(cfg['backbone'])
        self.head = MODELS.build(cfg['head'])
        self.num_classes = num_classes
        self.global_pool = global_pool
        self.num_features = self.head_hidden_size = self.embed_dim = self.backbone.embed_dims
        self.patch_size = self.backbone.patch_size
        if num_classes == 0:
            self.head.head = nn.Identity()
        self.feature_info = [
            dict(module=f'backbone.blocks.{i}', num_chs=self.embed_dim, reduction=self.patch_size)
            for i in range(len(self.backbone.blocks))]

    # --- timm's interface -------------------------------------------------------
    def get_classifier(self):
        return self.head.head

    def reset_classifier(self, num_classes, global_pool=None):
        if self.head.multi_token:
            raise ValueError('a multi-token PatchConvNet has one class token per class; '
                             'build a new model with the number of classes instead')
        self.num_classes = num_classes
        self.head.num_classes = num_classes
        self.head.head = (nn.Linear(self.embed_dim, num_classes) if num_classes > 0
                          else nn.Identity())

    def forward_features(self, x):
        """(B, N, C) patch tokens after the last block."""
        return self.backbone(x)[-1]

    def forward_head(self, x, pre_logits: bool = False):
        """Class-attention pooling of the patch tokens ``x``, then the classifier."""
        if pre_logits or self.num_classes == 0:
            return self.head.pre_logits((x,))
        return self.head((x,))

    def forward(self, x):
        return self.forward_head(self.forward_features(x))

    def forward_intermediates(
            self, x, indices: Optional[Union[int, List[int]]] = None, norm: bool = False,
            stop_early: bool = False, output_fmt: str = 'NCHW',
            intermediates_only: bool = False) -> Union[List[torch.Tensor], Tuple]:
        """Block outputs as timm's isotropic models give them: the last ``indices``
        blocks if an int, those block indices if a list; (B, C, H/16, W/16) maps
        (``'NCHW'``) or (B, H/16, W/16, C) (``'NHWC'``). PatchConvNet has no trunk norm,
        so ``norm`` changes nothing."""
        if output_fmt not in ('NCHW', 'NHWC'):
            raise ValueError(f"output_fmt must be 'NCHW' or 'NHWC', got {output_fmt!r}")
        depth = len(self.backbone.blocks)
        take = sorted(set(self._take_indices(depth, indices)))
        # The final features need every block; without them the trunk stops early.
        run_all = not (intermediates_only or stop_early)
        outs = self.backbone.forward_blocks(
            x, out_indices=tuple(sorted(set(take) | ({depth - 1} if run_all else set()))))
        intermediates = [o.permute(0, 3, 1, 2) if output_fmt == 'NCHW' else o
                         for o in outs[:len(take)]]
        if intermediates_only:
            return intermediates
        # As timm: the features forward_head pools (the last run block's tokens).
        return outs[-1].flatten(1, 2), intermediates

    def prune_intermediate_layers(self, indices=1, prune_norm=False, prune_head=True):
        """Drop the blocks after the last one ``indices`` asks for (and the head)."""
        take = self._take_indices(len(self.backbone.blocks), indices)
        depth = max(take) + 1
        self.backbone.blocks = self.backbone.blocks[:depth]
        # The trunk's default output is its last block: the new last one.
        self.backbone.out_indices = (depth - 1,)
        self.backbone.num_layers = depth
        self.feature_info = self.feature_info[:depth]
        if prune_head:
            self.reset_classifier(0)
        return sorted(take)

    def load_pretrained(self, checkpoint_path):
        """timm's ``custom_load`` hook for ``pretrained_cfg`` files and urls. timm's own
        loader (plain ``weights_only=True``) refuses the training checkpoints MMEngine
        writes, so files are read as the project reads them (weights-only, plus MMEngine's
        few checkpoint types). A classifier of another number of classes is left new."""
        from mmvision_ext.converters import load_checkpoint_file
        sd = checkpoint_filter_fn(load_checkpoint_file(checkpoint_path), self)
        own = self.state_dict()
        dropped = [k for k in sd if k.startswith('head.head.')
                   and (k not in own or own[k].shape != sd[k].shape)]
        for k in dropped:
            del sd[k]
        missing, unexpected = self.load_state_dict(sd, strict=False)
        problems = [k for k in missing if not (dropped and k.startswith('head.head.'))]
        if problems or unexpected:
            raise RuntimeError(f'{checkpoint_path} does not fit {type(self).__name__}: '
                               f'missing {problems[:5]}, unexpected {unexpected[:5]}')

    @staticmethod
    def _take_indices(depth, indices):
        """Block indices of timm's ``indices`` (the last n blocks, or indices, negative
        counting from the end); out of range is an error, as in timm."""
        if indices is None:
            indices = depth
        if isinstance(indices, int):
            if not 0 < indices <= depth:
                raise ValueError(f'indices={indices}: the model has {depth} blocks; ask for '
                                 f'the last 1 to {depth}')
            return list(range(depth - indices, depth))
        for i in indices:
            if not -depth <= i < depth:
                raise ValueError(f'block index {i} is out of range: the model has {depth} '
                                 f'blocks (0 to {depth - 1}, or -{depth} to -1)')
        return [i % depth for i in indices]


def checkpoint_filter_fn(state_dict, model):
    """A checkpoint of this project (``backbone.*``/``head.*``) as it is; an official
    one converted on the fly."""
    from mmvision_ext.converters import convert_checkpoint, unwrap_state_dict
    sd = unwrap_state_dict(state_dict)
    if not any(k.startswith('backbone.') for k in sd):
        sd, _ = convert_checkpoint(sd, family='patchconvnet')
    return sd


def _cfg(img_size, **kwargs):
    return dict(url='', num_classes=1000, input_size=(3, img_size, img_size), pool_size=None,
                crop_pct=0.875, interpolation='bicubic', mean=(0.485, 0.456, 0.406),
                std=(0.229, 0.224, 0.225), first_conv='backbone.patch_embed.proj.0.0',
                classifier='head.head', license='apache-2.0',
                paper_ids='arXiv:2112.13692', **kwargs)


default_cfgs = generate_default_cfgs({
    f'patchconvnet_{arch}_{size}': _cfg(size)
    for arch in PATCHCONVNET_ARCHS for size in (224, 384)})


def _create_patchconvnet(variant, pretrained=False, **kwargs):
    arch = variant.split('_')[1]
    # Every weight source (a file or url given by the user included) goes through
    # PatchConvNetClassifier.load_pretrained; timm resets custom_load for user sources.
    overlay = dict(kwargs.pop('pretrained_cfg_overlay', None) or {})
    overlay.setdefault('custom_load', True)
    return build_model_with_cfg(
        PatchConvNetClassifier, variant, pretrained, arch=arch, pretrained_cfg_overlay=overlay,
        feature_cfg=dict(out_indices=3, feature_cls='getter'), **kwargs)


def _register_patchconvnet(arch, size):
    name = f'patchconvnet_{arch}_{size}'
    if name in timm.list_models():  # timm's own model of that name wins
        return

    def entrypoint(pretrained=False, **kwargs):
        return _create_patchconvnet(name, pretrained, **kwargs)

    entrypoint.__name__ = name
    entrypoint.__doc__ = f'PatchConvNet-{arch.upper()} at {size}x{size} (thesis ch. 5).'
    entrypoint.__module__ = __name__
    register_model(entrypoint)


for _arch in PATCHCONVNET_ARCHS:
    for _size in (224, 384):
        _register_patchconvnet(_arch, _size)
