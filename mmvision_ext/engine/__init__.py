from .checkpoint import SafeCheckpointHook
from .hooks import GrafitMemoryHook, NonFiniteLossHook
from .progress import ConsoleProgressHook
from .loops import ResumableEpochBasedTrainLoop, ResumableIterBasedTrainLoop
from .optimizers import LayerDecayOptimWrapperConstructor, MixedPrecisionOptimWrapper
from .runner import ResumableRunner
from .strategies import FullyShardStrategy

__all__ = ['ConsoleProgressHook', 'FullyShardStrategy', 'GrafitMemoryHook',
           'LayerDecayOptimWrapperConstructor', 'MixedPrecisionOptimWrapper', 'NonFiniteLossHook',
           'ResumableEpochBasedTrainLoop', 'ResumableIterBasedTrainLoop', 'ResumableRunner',
           'SafeCheckpointHook']
