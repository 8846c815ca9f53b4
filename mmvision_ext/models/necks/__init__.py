from .pyramid import IsotropicPyramidNeck

__all__ = ['IsotropicPyramidNeck']
