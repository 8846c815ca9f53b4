from .backbones import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .necks import *  # noqa: F401,F403
try:  # Mask R-CNN's TTA uses mmcv's compiled ops (NMS), and mmseg's heads import them;
    # the rest of the package does not
    from .detectors import *  # noqa: F401,F403
    from .decode_heads import UPerHeadWithCP  # noqa: F401
except ImportError as error:
    if '_ext' not in str(error):
        raise
from .classifiers import *  # noqa: F401,F403
from .grafit import Grafit  # noqa: F401
from .data_preprocessors import TimmClsDataPreprocessor  # noqa: F401
from .losses import TimmLoss  # noqa: F401
from . import timm_models  # noqa: F401  (registers PatchConvNet with timm)
