"""Registries of mmvision_ext: MMEngine's root registries, on purpose.

mmseg, mmdet and mmpretrain each have child registries of MMEngine's root
ones, and a child falls back to its parent when a name is not its own. Modules
registered here are therefore found by ``type='PatchConvNet'`` from a config of
any default scope (ours, mmseg's, mmdet's, mmpretrain's, their own tools
included) once ``mmvision_ext`` is imported. The price is that our names must
not be used by those libraries (a child's own entry would win): a test checks
that none is. See docs/design.md.
"""
from mmengine.registry import DATASETS, HOOKS, LOOPS, METRICS, MODELS, \
    OPTIM_WRAPPER_CONSTRUCTORS, OPTIM_WRAPPERS, OPTIMIZERS, RUNNERS, TRANSFORMS

__all__ = ['MODELS', 'DATASETS', 'TRANSFORMS', 'METRICS', 'HOOKS', 'LOOPS', 'OPTIMIZERS',
           'OPTIM_WRAPPER_CONSTRUCTORS', 'OPTIM_WRAPPERS', 'RUNNERS']
