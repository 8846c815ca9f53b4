from .checkpoint import SafeCheckpointHook
from .hooks import NonFiniteLossHook
from .loops import ResumableEpochBasedTrainLoop, ResumableIterBasedTrainLoop
from .optimizers import LayerDecayOptimWrapperConstructor
from .runner import ResumableRunner

__all__ = ['LayerDecayOptimWrapperConstructor', 'NonFiniteLossHook',
           'ResumableEpochBasedTrainLoop', 'ResumableIterBasedTrainLoop', 'ResumableRunner',
           'SafeCheckpointHook']
