from .checkpoint import SafeCheckpointHook
from .hooks import NonFiniteLossHook
from .progress import ConsoleProgressHook
from .loops import ResumableEpochBasedTrainLoop, ResumableIterBasedTrainLoop
from .optimizers import LayerDecayOptimWrapperConstructor
from .runner import ResumableRunner

__all__ = ['ConsoleProgressHook', 'LayerDecayOptimWrapperConstructor', 'NonFiniteLossHook',
           'ResumableEpochBasedTrainLoop', 'ResumableIterBasedTrainLoop', 'ResumableRunner',
           'SafeCheckpointHook']
