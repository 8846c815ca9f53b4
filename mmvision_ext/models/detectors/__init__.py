from .instance_seg_tta import InstanceSegTTAModel

__all__ = ['InstanceSegTTAModel']
