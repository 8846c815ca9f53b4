"""Optimizers: timm's LAMB, and layer-wise learning-rate decay for the backbones.

LAMB (ResMLP, PatchConvNet, DeiT III recipes) is timm's, the one the reference code
trains with, registered as ``TimmLamb`` (mmpretrain has its own ``Lamb``).

Layer decay: mmseg's and mmdet's layer-decay constructors accept only BEiT/MAE/ConvNeXt
backbones (by class name); this one asks the backbone itself for each
parameter's layer id (``backbone.get_layer_depth``), so it works for every
family of the project and keeps all of mmengine's ``paramwise_cfg`` options.
"""
from mmengine.optim import DefaultOptimWrapperConstructor
from timm.optim import Lamb

from mmvision_ext.errors import ConfigError
from mmvision_ext.registry import OPTIM_WRAPPER_CONSTRUCTORS, OPTIMIZERS

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
