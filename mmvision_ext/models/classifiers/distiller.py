"""DeiT distillation (thesis section 3.3), with or without a distillation token.

The student is an mmpretrain ``ImageClassifier``. In training, a frozen teacher scores
the same augmented batch:

- with ``DistilledClsHead`` (DeiT, a class and a distillation token, late fusion at
  inference), the class token learns the labels (or Mixup/CutMix soft targets) and the
  distillation token the teacher;
- with any other head (CaiT-Υ, whose class-attention stage gains nothing from a
  distillation token, thesis Table 3.14; distilled ResMLP, which has no tokens), the
  one output learns both, as the reference code does for models without one.

The losses:

- hard (eq. 3.3): ``(1 - alpha) * CE(class, y) + alpha * CE(dist, argmax teacher)``,
  ``alpha = 1/2`` in the thesis;
- soft (eq. 3.2): ``(1 - alpha) * CE(class, y) + alpha * tau^2 * KL(teacher || dist)``
  at temperature ``tau``, the KL summed over classes and divided by batch x classes.
  That is the scale of the reference implementation (facebookresearch/deit), with which
  the thesis' ``tau = 3``, ``alpha = 0.1`` and its soft-distillation results (Table 3.3)
  were obtained; the per-sample KL averaged over the batch would be ``num_classes``
  times as large (1000 times on ImageNet)

where ``dist`` is the distillation token's output, or the class output without one.
"""
from pathlib import Path

import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmpretrain.models.classifiers import ImageClassifier

from mmvision_ext.converters import load_checkpoint_file, unwrap_state_dict
from mmvision_ext.errors import ConfigError
from mmvision_ext.registry import MODELS


def build_teacher(config, checkpoint):
    """The teacher of a config file and checkpoint, frozen and in eval mode.

    The checkpoint may be an mmengine one (``state_dict``), an official one
    (``model``) or a plain state dict, e.g. DeiT's RegNetY-16GF teacher file for
    ``configs/cls_regnety_160_teacher_in1k.py`` (mmpretrain's ``TimmClassifier``).
    """
    for what, path in (('config', config), ('checkpoint', checkpoint)):
        if not Path(path).is_file():
            raise FileNotFoundError(f'distillation teacher {what} not found: {path}')
    cfg = Config.fromfile(str(config))
    model_cfg = cfg.model.copy()
    model_cfg.get('backbone', {}).pop('init_cfg', None)  # the checkpoint has every weight
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmpretrain')):
        teacher = MODELS.build(model_cfg)
    state_dict = unwrap_state_dict(load_checkpoint_file(str(checkpoint)))
    missing, unexpected = teacher.load_state_dict(state_dict, strict=False)
    if missing or unexpected:
        raise ConfigError(f'teacher checkpoint {checkpoint} does not match {config}: '
                         f'missing {missing[:5]}, unexpected {unexpected[:5]}'
                         f' ({len(missing)} missing, {len(unexpected)} unexpected)')
    teacher.requires_grad_(False)
    return teacher.eval(), cfg


@MODELS.register_module()
class DistilledImageClassifier(ImageClassifier):
    """``ImageClassifier`` trained with a teacher.

    Args:
        teacher (dict): ``config`` and ``checkpoint`` paths of the teacher, any
            classifier config of this project or mmpretrain (inputs are shared, so
            it must use the student's normalisation; checked).
        distillation (str): 'hard' or 'soft'.
        alpha (float, optional): weight of the distillation term; default the thesis'
            value of the kind (section 3.4.5): 1/2 hard, 0.1 soft.
        tau (float): soft-distillation temperature; default the thesis' 3.0
            (section 3.4.5).
        **kwargs: ``ImageClassifier`` arguments; with ``DistilledClsHead`` the
            distillation token learns the teacher, with any other head the class output.
    """

    def __init__(self, teacher, distillation='hard', alpha=None, tau=3.0, **kwargs):
        super().__init__(**kwargs)
        if distillation not in ('hard', 'soft'):
            raise ConfigError(f"distillation must be 'hard' or 'soft', got {distillation!r}")
        # A head with a distillation token gives two outputs; any other, one for both.
        self.distillation_token = hasattr(self.head, 'forward_both')
        if alpha is None:
            alpha = 0.5 if distillation == 'hard' else 0.1
        self.distillation, self.alpha, self.tau = distillation, float(alpha), float(tau)
        teacher_model, teacher_cfg = build_teacher(teacher['config'], teacher['checkpoint'])
        self._check_normalisation(teacher_cfg, kwargs.get('data_preprocessor') or {})
        # Kept outside the module tree: not in the student's state dict, checkpoints,
        # optimizer or DDP; `_apply` moves it with the student.
        object.__setattr__(self, 'teacher', teacher_model)

    @staticmethod
    def _check_normalisation(teacher_cfg, student_preprocessor):
        teacher_pre = teacher_cfg.model.get('data_preprocessor') or teacher_cfg.get(
            'data_preprocessor') or {}
        for key in ('mean', 'std', 'to_rgb'):
            ours, theirs = student_preprocessor.get(key), teacher_pre.get(key)
            if ours is not None and theirs is not None and \
                    torch.tensor(ours, dtype=torch.float).tolist() != \
                    torch.tensor(theirs, dtype=torch.float).tolist():
                raise ConfigError(f"the teacher sees the student's inputs, but its "
                                 f'data_preprocessor {key} differs: {theirs} vs {ours}')

    def _apply(self, fn, *args, **kwargs):
        super()._apply(fn, *args, **kwargs)
        self.teacher._apply(fn, *args, **kwargs)
        return self

    def loss(self, inputs, data_samples):
        feats = self.extract_feat(inputs)
        if self.distillation_token:
            logits, logits_dist = self.head.forward_both(feats)
        else:
            logits = logits_dist = self.head(feats)
        losses = self.head._get_loss(logits, data_samples)
        with torch.no_grad():
            teacher_logits = self.teacher(inputs, mode='tensor')
        losses['loss'] = (1 - self.alpha) * losses['loss']
        losses['loss_distill'] = self.alpha * self.distillation_loss(logits_dist,
                                                                     teacher_logits)
        return losses

    def distillation_loss(self, logits_dist, teacher_logits):
        if self.distillation == 'hard':
            return F.cross_entropy(logits_dist, teacher_logits.argmax(dim=1))
        t = self.tau
        # 'mean': divided by batch x classes, the reference's scale (module docstring).
        return F.kl_div(F.log_softmax(logits_dist / t, dim=1),
                        F.log_softmax(teacher_logits / t, dim=1),
                        reduction='mean', log_target=True) * t * t
