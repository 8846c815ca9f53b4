"""Convert official (facebookresearch/deit) and timm checkpoints of the five families
to mmvision_ext classifier state dicts (``backbone.*`` and ``head.*``).

The family and variant are read off the keys and shapes; the converted dict is
checked key by key and shape by shape against the model it is meant for, and any
mismatch is an error that names the keys.
"""
import re
from collections import OrderedDict

import torch

from mmvision_ext.errors import UserError
from mmvision_ext.models.backbones import CaiT, DeiT3ViT, DeiTViT, PatchConvNet, ResMLP

FAMILIES = ('deit3', 'deit', 'cait', 'resmlp', 'patchconvnet')
BACKBONES = {'deit3': DeiT3ViT, 'deit': DeiTViT, 'cait': CaiT, 'resmlp': ResMLP,
             'patchconvnet': PatchConvNet}
# Keys of these families' pooling/classifier parts; the rest is the trunk.
HEAD_KEYS = {
    'deit3': ('head.',),
    'deit': ('head.', 'head_dist.'),
    'cait': ('cls_token', 'blocks_token_only.', 'norm.', 'head.'),
    'resmlp': ('head.',),
    'patchconvnet': ('cls_token', 'blocks_token_only.', 'norm.', 'head.'),
}


class ConversionError(UserError, ValueError):
    """A checkpoint that cannot be converted, with the reason."""


def unwrap_state_dict(ckpt):
    """The tensor dict inside a checkpoint: ``model``/``state_dict``-wrapped or plain,
    with DataParallel's ``module.`` prefixes removed."""
    if not isinstance(ckpt, dict):
        raise ConversionError(f'expected a dict checkpoint, got {type(ckpt).__name__}')
    for key in ('model', 'state_dict', 'model_ema'):
        if key in ckpt and isinstance(ckpt[key], dict):
            ckpt = ckpt[key]
            break
    sd = OrderedDict()
    for k, v in ckpt.items():
        if not torch.is_tensor(v):
            continue
        sd[k[len('module.'):] if k.startswith('module.') else k] = v
    if not sd:
        raise ConversionError('the checkpoint holds no tensors')
    return sd


def detect_family(sd):
    """Family of an unwrapped official or timm state dict."""
    if 'blocks.0.attn.qkv_pos.0.weight' in sd:
        return 'patchconvnet'
    if 'blocks.0.attn.proj_l.weight' in sd:
        return 'cait'
    if 'blocks.0.norm1.alpha' in sd:
        return 'resmlp'
    if 'blocks.0.attn.qkv.weight' in sd:
        has_ls = 'blocks.0.gamma_1' in sd or 'blocks.0.ls1.gamma' in sd
        return 'deit3' if has_ls else 'deit'
    if 'backbone.blocks.0.attn.qkv_pos.0.weight' in sd or 'backbone.patch_embed.proj.weight' in sd:
        raise ConversionError('this checkpoint is already in mmvision_ext layout (backbone.*)')
    raise ConversionError('cannot tell the family from the keys (first keys: '
                          f'{list(sd)[:5]}); pass --family')


def _timm_to_official(sd, family):
    """timm renamed a few official keys; map them back."""
    out = OrderedDict()
    for k, v in sd.items():
        if family == 'deit3':
            k = re.sub(r'\.ls([12])\.gamma$', r'.gamma_\1', k)
        elif family == 'resmlp':
            k = k.replace('stem.', 'patch_embed.').replace('.linear_tokens.', '.attn.')
            k = k.replace('.mlp_channels.', '.mlp.')
            k = re.sub(r'\.ls([12])$', r'.gamma_\1', k)
        out[k] = v
    return out


def _grid(num_tokens):
    side = int(round(num_tokens ** 0.5))
    if side * side != num_tokens:
        raise ConversionError(f'{num_tokens} position tokens are not a square grid')
    return side


def infer_variant(sd, family):
    """Model settings of an official-layout state dict: arch name, img_size, flags."""
    depth = 1 + max(int(k.split('.')[1]) for k in sd if k.startswith('blocks.'))
    info = dict(family=family, num_classes=None, img_size=None, distilled=False,
                multi_token=False)
    if family == 'patchconvnet':
        dim = sd['blocks.0.gamma_1'].shape[0]
        patch = 16
        info['multi_token'] = sd['cls_token'].shape[1] > 1
        info['num_classes'] = (sd['cls_token'].shape[1] if info['multi_token']
                               else sd['head.weight'].shape[0])
        info['norm'] = 'BN' if 'blocks.0.norm1.running_mean' in sd else 'LN'
    else:
        w = sd['patch_embed.proj.weight']
        dim, patch = w.shape[0], w.shape[-1]
        info['num_classes'] = sd['head.weight'].shape[0]
        if family == 'resmlp':
            info['img_size'] = _grid(sd['blocks.0.attn.weight'].shape[0]) * patch
        else:
            n = sd['pos_embed'].shape[1]
            if family == 'deit':
                info['distilled'] = 'dist_token' in sd
                n -= 2 if info['distilled'] else 1
            info['img_size'] = _grid(n) * patch
    for name, s in BACKBONES[family].arch_zoo.items():
        if (s['embed_dims'], s['depth'], s['patch_size']) == (dim, depth, patch):
            info['arch'] = name
            return info
    raise ConversionError(f'no {family} variant has width {dim}, depth {depth} and patch '
                          f'{patch}; known: {", ".join(BACKBONES[family].arch_zoo)}')


def official_to_mmvx(sd, family):
    """Rename an official-layout state dict to ``backbone.*`` / ``head.*`` keys."""
    out = OrderedDict()
    head_keys = HEAD_KEYS[family]
    multi = family == 'patchconvnet' and sd['cls_token'].shape[1] > 1
    per_class = {}
    for k, v in sd.items():
        if family == 'resmlp' and k.endswith(('.alpha', '.beta')):
            v = v.reshape(1, 1, -1)
        if multi and re.match(r'head\.\d+\.(weight|bias)$', k):
            _, idx, kind = k.split('.')
            per_class.setdefault(kind, {})[int(idx)] = v
            continue
        out[('head.' if k.startswith(head_keys) else 'backbone.') + k] = v
    for kind, parts in per_class.items():
        # The official per-class Linear(C, 1) units, stacked into one (K, C) layer.
        out[f'head.head.{kind}'] = torch.cat([parts[i].reshape(1, -1) if kind == 'weight'
                                              else parts[i].reshape(1)
                                              for i in sorted(parts)], dim=0)
    return out


def model_config(info):
    """mmpretrain ``ImageClassifier`` config of a variant described by ``infer_variant``."""
    family, arch = info['family'], info['arch']
    s = BACKBONES[family].get_arch(arch)
    backbone = dict(type=BACKBONES[family].__name__, arch=arch, out_type='tokens')
    if info.get('img_size') and family != 'patchconvnet':
        backbone['img_size'] = info['img_size']
    if family == 'deit':
        backbone['distilled'] = info['distilled']
    if family == 'patchconvnet' and info.get('norm', 'LN') != 'LN':
        backbone['norm'] = info['norm']
    head = dict(num_classes=info['num_classes'], in_channels=s['embed_dims'])
    if family in ('deit3', 'deit') and not info.get('distilled'):
        head.update(type='TokenPoolClsHead', pool='cls')
    elif family == 'deit':
        head.update(type='DistilledClsHead')
    elif family == 'resmlp':
        head.update(type='TokenPoolClsHead', pool='avg')
    elif family == 'cait':
        head.update(type='ClassAttentionClsHead', num_heads=s['num_heads'], depth=2,
                    mlp_ratio=4., layer_scale_init=s['layer_scale_init'])
    else:
        head.update(type='ClassAttentionClsHead', num_heads=1, depth=1, mlp_ratio=3.,
                    layer_scale_init=s['layer_scale_init'], multi_token=info['multi_token'])
    return dict(type='ImageClassifier', backbone=backbone, head=head)


def build_classifier(info, device=None):
    """Build the classifier of ``info`` (on ``device``; 'meta' allocates nothing)."""
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS
    init_default_scope('mmpretrain')
    with torch.device(device or 'cpu'):
        return MODELS.build(model_config(info))


def check_against_model(sd, model):
    """Raise ConversionError unless ``sd`` has exactly the model's keys and shapes."""
    expected = {k: v.shape for k, v in model.state_dict().items()}
    missing = sorted(set(expected) - set(sd))
    unexpected = sorted(set(sd) - set(expected))
    wrong = sorted(k for k in set(sd) & set(expected) if tuple(sd[k].shape) != tuple(expected[k]))
    if missing or unexpected or wrong:
        lines = []
        if missing:
            lines.append(f'missing keys ({len(missing)}): {missing[:10]}')
        if unexpected:
            lines.append(f'unexpected keys ({len(unexpected)}): {unexpected[:10]}')
        if wrong:
            lines.append('shape mismatches: ' + ', '.join(
                f'{k} {tuple(sd[k].shape)} vs {tuple(expected[k])}' for k in wrong[:10]))
        raise ConversionError('converted checkpoint does not match the model:\n  '
                              + '\n  '.join(lines))


def convert_checkpoint(ckpt, family=None):
    """Official or timm checkpoint (already loaded) -> (mmvx state dict, variant info)."""
    sd = unwrap_state_dict(ckpt)
    detected = detect_family(sd) if family is None else family
    if detected not in FAMILIES:
        raise ConversionError(f'unknown family {family!r}; choose one of {", ".join(FAMILIES)}')
    sd = _timm_to_official(sd, detected)
    info = infer_variant(sd, detected)
    out = official_to_mmvx(sd, detected)
    check_against_model(out, build_classifier(info, device='meta'))
    return out, info


def load_checkpoint_file(path):
    """torch.load with ``weights_only=True``; pickles that need more are refused."""
    try:
        return torch.load(path, map_location='cpu', weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as e:  # the unpickler's message says which global it refused
        raise ConversionError(
            f'{path} cannot be loaded with weights_only=True ({e}). It contains objects '
            'other than tensors; re-save its state dict with torch.save(sd) in a trusted '
            'environment before converting.') from e
