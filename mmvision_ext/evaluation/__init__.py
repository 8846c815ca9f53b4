from .coarse_to_fine import CoarseToFineMetric
from .real import ImageNetReaLAccuracy

__all__ = ['CoarseToFineMetric', 'ImageNetReaLAccuracy']
