from .backbones import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .necks import *  # noqa: F401,F403
from .detectors import *  # noqa: F401,F403
from .classifiers import *  # noqa: F401,F403
from .grafit import Grafit  # noqa: F401
from .data_preprocessors import TimmClsDataPreprocessor  # noqa: F401
from .losses import TimmLoss  # noqa: F401
from . import timm_models  # noqa: F401  (registers PatchConvNet with timm)
