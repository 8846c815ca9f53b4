"""Inference entry points, the counterparts of ``mmseg.apis.init_model`` and
``mmdet.apis.init_detector`` for every config of the project."""
from pathlib import Path

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner.checkpoint import _load_checkpoint_to_model

from mmvision_ext.configs import find_config
from mmvision_ext.registry import MODELS
from mmvision_ext.runner_utils import check_checkpoint_fits, without_teacher


def strip_pretrained(cfg):
    """Drop ``init_cfg`` entries: weights come from ``checkpoint`` (or stay random)."""
    if isinstance(cfg, dict):
        cfg.pop('init_cfg', None)
        for v in cfg.values():
            strip_pretrained(v)
    elif isinstance(cfg, list):
        for v in cfg:
            strip_pretrained(v)


def load_model_checkpoint(model, checkpoint):
    """Load ``checkpoint`` into ``model`` and take its class names. A checkpoint that does
    not fit the model (other shapes, or no shared names) is one clear error rather than
    mmengine's warning and a half-random model."""
    from mmvision_ext.compat import load_from_local
    from mmvision_ext.engine.checkpoint import check_checkpoint_file
    check_checkpoint_file(checkpoint)
    ckpt = load_from_local(str(checkpoint), map_location='cpu')
    check_checkpoint_fits(model, ckpt, checkpoint)
    _load_checkpoint_to_model(model, ckpt)  # mmengine's load_checkpoint, minus the read
    meta = ckpt.get('meta', {}) if isinstance(ckpt, dict) else {}
    if 'dataset_meta' in meta:
        model.dataset_meta = meta['dataset_meta']
    return model


def init_model(config, checkpoint=None, device='cpu', cfg_options=None):
    """Build the model of ``config`` (a path, a config name such as
    ``'upernet_patchconvnet_b60'``, or a Config), load ``checkpoint`` if given,
    move it to ``device`` and return it in eval mode with ``model.cfg`` set.

    ``device='meta'`` builds the model without memory or weight initialisation, in
    well under a second for the largest variants: enough for shapes and parameter
    counts (``model.to_empty(device='cpu')`` gives it uninitialised storage, for
    example to count FLOPs)."""
    if isinstance(config, (str, Path)):
        config = Config.fromfile(str(find_config(config)))
    elif not isinstance(config, Config):
        raise TypeError(f'config must be a path or a Config, got {type(config).__name__}')
    if cfg_options:
        config.merge_from_dict(cfg_options)
    init_default_scope(config.get('default_scope', 'mmengine'))
    model_cfg = without_teacher(config.model.copy())
    strip_pretrained(model_cfg)
    # As mmengine's Runner: a top-level data_preprocessor (mmpretrain's convention)
    # is the model's unless the model names its own.
    if config.get('data_preprocessor') is not None:
        model_cfg.setdefault('data_preprocessor', config.data_preprocessor)
    if str(device) == 'meta':
        if checkpoint is not None:
            raise ValueError('a checkpoint cannot be loaded into a model on the meta device')
        with torch.device('meta'):
            model = MODELS.build(model_cfg)
        model.cfg = config
        return model.eval()
    model = MODELS.build(model_cfg)
    if checkpoint is not None:
        load_model_checkpoint(model, checkpoint)
    model.cfg = config
    return model.to(device).eval()



@torch.no_grad()
def get_pooling_attention(model, inputs, block=-1):
    """The attention that pools the patches, as maps over the patch grid.

    ``model`` is a classifier whose head is a ``ClassAttentionClsHead`` (CaiT,
    PatchConvNet); ``inputs`` a normalised (B, 3, H, W) batch. Returns
    (B, heads, ceil(H/p), ceil(W/p)) - per class-attention head, of block
    ``block`` - or (B, num_classes, ...) for the one-token-per-class option.
    """
    head = getattr(model, 'head', None)
    if not hasattr(head, 'attention_maps'):
        raise TypeError(f'{type(head).__name__} does not pool by attention; attention maps '
                        'exist for CaiT and PatchConvNet classifiers')
    p = model.backbone.patch_size
    hw = (-(-inputs.shape[-2] // p), -(-inputs.shape[-1] // p))
    return head.attention_maps(model.backbone(inputs), hw, block)


__all__ = ['init_model', 'find_config', 'get_pooling_attention']
