"""mmvision_ext: DeiT III, DeiT, CaiT, ResMLP and PatchConvNet for OpenMMLab.

Importing the package applies the stack's compatibility fixes and registers
every module (see ``mmvision_ext.registry``), so configs only need
``custom_imports = dict(imports=['mmvision_ext'], allow_failed_imports=False)``.
"""
from . import compat  # noqa: F401  (first: fixes the stack before it is used)
from . import datasets, engine, evaluation, models  # noqa: F401
from .version import __version__

__all__ = ['__version__']
