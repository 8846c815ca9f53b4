from .real import ImageNetReaLAccuracy

__all__ = ['ImageNetReaLAccuracy']
