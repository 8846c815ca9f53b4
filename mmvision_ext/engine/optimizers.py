"""Optimizers: timm's LAMB, layer-wise learning-rate decay for the backbones, and
mixed precision on every device.

LAMB (ResMLP, PatchConvNet, DeiT III recipes) is timm's, the one the reference code
trains with, registered as ``TimmLamb`` (mmpretrain has its own ``Lamb``).

Layer decay: mmseg's and mmdet's layer-decay constructors accept only BEiT/MAE/ConvNeXt
backbones (by class name); this one asks the backbone itself for each
parameter's layer id (``backbone.get_layer_depth``), so it works for every
family of the project and keeps all of mmengine's ``paramwise_cfg`` options.
"""
from contextlib import contextmanager

import torch
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapper
from timm.optim import Lamb

from mmvision_ext.errors import ConfigError
from mmvision_ext.registry import OPTIM_WRAPPER_CONSTRUCTORS, OPTIM_WRAPPERS, OPTIMIZERS

OPTIMIZERS.register_module(name='TimmLamb', module=Lamb)


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class LayerDecayOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """``paramwise_cfg=dict(layer_decay_rate=r, ...)``: the lr of a parameter at layer
    id ``i`` of ``n`` is multiplied by ``r ** (n - 1 - i)`` (embedding lowest, heads
    at full lr), on top of the other ``paramwise_cfg`` rules. ``r = 1`` disables it.

    Args:
        optim_wrapper_cfg (dict): the optimizer wrapper config, as mmengine's.
        paramwise_cfg (dict, optional): mmengine's per-parameter rules plus
            ``layer_decay_rate`` (in (0, 1]).
    """

    def __init__(self, optim_wrapper_cfg, paramwise_cfg=None):
        # The key stays in paramwise_cfg: an empty one would make the base class skip
        # add_params (one group for all parameters) and ignore the decay.
        self.layer_decay_rate = float((paramwise_cfg or {}).get('layer_decay_rate', 1.0))
        if not 0 < self.layer_decay_rate <= 1:
            raise ConfigError(f'layer_decay_rate must be in (0, 1], got {self.layer_decay_rate}')
        super().__init__(optim_wrapper_cfg, paramwise_cfg)

    def add_params(self, params, module, prefix='', **kwargs):
        super().add_params(params, module, prefix, **kwargs)
        if prefix or self.layer_decay_rate == 1.0:
            return  # recursive call from the base class, or nothing to scale
        backbone = getattr(module, 'backbone', None)
        if not hasattr(backbone, 'get_layer_depth'):
            raise TypeError(f'layer_decay_rate needs a backbone with get_layer_depth(); '
                            f'{type(backbone).__name__} has none')
        names = {id(p): n for n, p in module.named_parameters()}
        for group in params:
            layer_id, num_ids = backbone.get_layer_depth(names[id(group['params'][0])],
                                                         'backbone.')
            scale = self.layer_decay_rate ** (num_ids - 1 - layer_id)
            group['lr'] = group.get('lr', self.base_lr) * scale
            group['layer_id'] = layer_id


@OPTIM_WRAPPERS.register_module()
class MixedPrecisionOptimWrapper(OptimWrapper):
    """Mixed-precision training on any device (``tools/train.py --amp``): the forward
    pass and loss under ``torch.autocast``, in bfloat16 where the device has it (CPUs,
    NVIDIA GPUs from Ampere on), without loss scaling since bfloat16 keeps float32's
    exponent range; in float16 with dynamic loss scaling elsewhere. mmengine's
    ``AmpOptimWrapper`` refuses to start without an accelerator.

    Args:
        dtype (str): ``'auto'`` (bfloat16 where supported, else float16),
            ``'bfloat16'`` or ``'float16'``.
        loss_scale (str | float | dict): float16's loss scaling: ``'dynamic'``, a
            fixed scale, or ``torch.amp.GradScaler`` arguments. Unused for bfloat16.
        **kwargs: mmengine's ``OptimWrapper`` arguments (optimizer, clip_grad,
            accumulative_counts).
    """

    def __init__(self, dtype='auto', loss_scale='dynamic', **kwargs):
        super().__init__(**kwargs)
        self.device_type = 'cuda' if torch.cuda.is_available() else 'cpu'
        bf16_ok = self.device_type == 'cpu' or torch.cuda.is_bf16_supported()
        if dtype == 'auto':
            dtype = 'bfloat16' if bf16_ok else 'float16'
        if dtype not in ('bfloat16', 'float16'):
            raise ConfigError(f"MixedPrecisionOptimWrapper: dtype must be 'auto', 'bfloat16' "
                              f"or 'float16', got {dtype!r}")
        if dtype == 'bfloat16' and not bf16_ok:
            raise ConfigError('this GPU has no bfloat16; use dtype float16 (or auto)')
        self.cast_dtype = getattr(torch, dtype)
        self.loss_scaler = None
        if self.cast_dtype == torch.float16:
            scaler = dict(loss_scale) if isinstance(loss_scale, dict) else (
                {} if loss_scale == 'dynamic' else dict(init_scale=float(loss_scale),
                                                        growth_interval=2 ** 31 - 1))
            self.loss_scaler = torch.amp.GradScaler(self.device_type, **scaler)

    def backward(self, loss, **kwargs):
        if self.loss_scaler is not None:
            loss = self.loss_scaler.scale(loss)
        super().backward(loss, **kwargs)

    def step(self, **kwargs):
        if self.loss_scaler is None:
            return super().step(**kwargs)
        if self.clip_grad_kwargs:
            self.loss_scaler.unscale_(self.optimizer)
            self._clip_grad()
        self.loss_scaler.step(self.optimizer, **kwargs)
        self.loss_scaler.update()

    def state_dict(self):
        state = super().state_dict()
        if self.loss_scaler is not None:
            state['loss_scaler'] = self.loss_scaler.state_dict()
        return state

    def load_state_dict(self, state_dict):
        state_dict = dict(state_dict)
        scaler = state_dict.pop('loss_scaler', None)
        if scaler is not None and self.loss_scaler is not None:
            self.loss_scaler.load_state_dict(scaler)
        super().load_state_dict(state_dict)

    @contextmanager
    def optim_context(self, model):
        with super().optim_context(model), torch.autocast(self.device_type,
                                                          dtype=self.cast_dtype):
            yield
