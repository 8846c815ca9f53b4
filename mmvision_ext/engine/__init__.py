from .checkpoint import SafeCheckpointHook
from .hooks import NonFiniteLossHook
from .progress import ConsoleProgressHook
from .loops import ResumableEpochBasedTrainLoop, ResumableIterBasedTrainLoop
from .optimizers import LayerDecayOptimWrapperConstructor, MixedPrecisionOptimWrapper
from .runner import ResumableRunner

__all__ = ['ConsoleProgressHook', 'LayerDecayOptimWrapperConstructor',
           'MixedPrecisionOptimWrapper', 'NonFiniteLossHook',
           'ResumableEpochBasedTrainLoop', 'ResumableIterBasedTrainLoop', 'ResumableRunner',
           'SafeCheckpointHook']
