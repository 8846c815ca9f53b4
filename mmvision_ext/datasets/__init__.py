from .synthetic import SYNTHETIC_CLASSES, make_dataset

__all__ = ['SYNTHETIC_CLASSES', 'make_dataset']
