from .distiller import DistilledImageClassifier

__all__ = ['DistilledImageClassifier']
