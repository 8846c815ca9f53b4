from .cait import CaiT
from .patchconvnet import PatchConvNet
from .resmlp import ResMLP
from .vit import DeiT3ViT, DeiTViT

__all__ = ['DeiT3ViT', 'DeiTViT', 'CaiT', 'ResMLP', 'PatchConvNet']
