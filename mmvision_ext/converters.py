"""Convert official (facebookresearch/deit) and timm checkpoints of the five families
to mmvision_ext classifier state dicts (``backbone.*`` and ``head.*``).

The family and variant are read off the keys and shapes; the converted dict is
checked key by key and shape by shape against the model it is meant for, and any
mismatch is an error that names the keys.
"""
import re
from collections import OrderedDict

import torch

from mmvision_ext.errors import ConversionError
from mmvision_ext.models.backbones import CaiT, DeiT3ViT, DeiTViT, PatchConvNet, ResMLP

# Each family's backbone class says how its official checkpoints map to this project
# (``is_official_checkpoint``, ``official_key``, ``official_variant``,
# ``official_to_mmvx``, ``classifier_config_name``; see IsotropicBackbone); each
# recognises only its own checkpoints.
BACKBONES = {cls.family: cls for cls in (PatchConvNet, CaiT, ResMLP, DeiT3ViT, DeiTViT)}
FAMILIES = tuple(BACKBONES)


def unwrap_state_dict(ckpt):
    """The tensor dict inside a checkpoint: ``model``/``state_dict``-wrapped or plain, or
    a whole pickled model (``torch.save(model)``, read with ``--trust-pickle``), with
    DataParallel's ``module.`` prefixes removed."""
    if isinstance(ckpt, torch.nn.Module):
        ckpt = ckpt.state_dict()
    if not isinstance(ckpt, dict):
        raise ConversionError(f'expected a dict checkpoint, got {type(ckpt).__name__}')
    for key in ('model', 'state_dict', 'model_ema'):
        inner = ckpt.get(key)
        if isinstance(inner, torch.nn.Module):
            inner = inner.state_dict()
        if isinstance(inner, dict):
            ckpt = inner
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
    for family, cls in BACKBONES.items():
        if cls.is_official_checkpoint(sd):
            return family
    if any(k.startswith('backbone.') for k in sd):
        raise ConversionError('this checkpoint is already in mmvision_ext layout (backbone.*)')
    raise ConversionError('cannot tell the family from the keys (first keys: '
                          f'{list(sd)[:5]}); pass --family')


def infer_variant(sd, family):
    """Model settings of an official-layout state dict: family, arch, num_classes and
    the family's flags."""
    return dict(family=family, **BACKBONES[family].official_variant(sd))


def model_config(info):
    """The classifier config of a variant described by ``infer_variant``: the model of
    the family's own config for that arch (``configs/cls_<family>_<arch>_in1k.py``),
    with the checkpoint's number of classes and flags."""
    from mmengine.config import Config

    from mmvision_ext.apis import strip_pretrained
    from mmvision_ext.configs import find_config
    from mmvision_ext.runner_utils import without_teacher
    cls = BACKBONES[info['family']]
    model = without_teacher(Config.fromfile(str(find_config(
        cls.classifier_config_name(info)))).model)
    strip_pretrained(model)
    # The recipe's loss wants Mixup's soft targets; a converted model is evaluated or
    # fine-tuned on plain labels, with the head's default cross-entropy.
    model.head.pop('loss', None)
    for part, overrides in cls.classifier_overrides(info).items():
        model[part].update(overrides)
    return model.to_dict()


def build_classifier(info, device=None, **backbone):
    """Build the classifier of ``info`` (on ``device``; 'meta' allocates nothing), with
    the backbone settings ``backbone`` (e.g. ``drop_path_rate=0.``) in place of its
    config's."""
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS
    init_default_scope('mmpretrain')
    cfg = model_config(info)
    cfg['backbone'].update(backbone)
    with torch.device(device or 'cpu'):
        return MODELS.build(cfg)


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
    cls = BACKBONES[detected]
    sd = OrderedDict((cls.official_key(k), v) for k, v in sd.items())
    try:
        info = infer_variant(sd, detected)
        out = cls.official_to_mmvx(sd)
    except KeyError as e:
        how = 'as asked' if family else 'as its keys suggest'
        raise ConversionError(f'no {e.args[0]!r} in it, which a {detected} classifier ({how}) '
                              'has: a checkpoint of another family, or weights without their '
                              'classifier head') from None
    check_against_model(out, build_classifier(info, device='meta'))
    return out, info


def load_checkpoint_file(path):
    """torch.load with ``weights_only=True``, allowing the few non-tensor types that
    MMEngine's training checkpoints hold (``compat.MMENGINE_CHECKPOINT_GLOBALS``);
    pickles that need more are refused."""
    from mmvision_ext.compat import load_from_local
    from mmvision_ext.engine.checkpoint import checkpoint_problem
    try:
        return load_from_local(str(path), map_location='cpu')
    except FileNotFoundError:
        raise
    except Exception as e:
        problem = checkpoint_problem(str(path))
        if problem:  # truncated download, not a checkpoint at all, ...
            raise ConversionError(f'{path} is not a usable checkpoint: {problem}') from None
        # The unpickler's long message names the global it refused.
        refused = re.search(r'Unsupported global: GLOBAL (\S+)', str(e))
        what = refused.group(1) if refused else str(e).splitlines()[0]
        raise ConversionError(
            f'{path} holds objects other than tensors, which weights_only=True refuses '
            f'({what}). Re-save its state dict with torch.save(sd) in a trusted environment, '
            'or, for a file from a source you trust, convert it with '
            'tools/model_converters/official2mmvx.py --trust-pickle') from None
