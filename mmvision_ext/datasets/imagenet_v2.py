"""ImageNet-V2 (Recht et al., 2019), the second test set that the thesis reports beside
ImageNet-val: its three releases (matched-frequency, threshold0.7, top-images) unpack to
one folder per class named by the class index, ``<root>/<0..999>/<hash>.jpeg``."""
import os
import os.path as osp

from mmpretrain.datasets import BaseDataset
from mmpretrain.datasets.categories import IMAGENET_CATEGORIES

from mmvision_ext.registry import DATASETS

IMAGE_EXTENSIONS = ('.jpeg', '.jpg', '.png')


@DATASETS.register_module()
class ImageNetV2(BaseDataset):
    """A release of ImageNet-V2 as unpacked: the folder name is the ImageNet class index
    (folders sort as text, '10' before '2', so their order says nothing).

    Args:
        data_root (str): the release's folder, e.g.
            ``data/imagenetv2-matched-frequency-format-val``.
        pipeline (list): the test pipeline.
        **kwargs: mmpretrain ``BaseDataset`` arguments (``metainfo``, ``indices``...).
    """
    METAINFO = {'classes': IMAGENET_CATEGORIES}

    def __init__(self, data_root, pipeline=(), **kwargs):
        super().__init__(ann_file='', data_root=data_root, pipeline=pipeline, **kwargs)

    def load_data_list(self):
        root = self.data_root
        if not osp.isdir(root):
            raise FileNotFoundError(f'ImageNet-V2 folder not found: {root}')
        num_classes = len(self.metainfo['classes'])
        data_list = []
        for name in sorted(os.listdir(root)):
            folder = osp.join(root, name)
            if not osp.isdir(folder):
                continue
            if not name.isdigit() or int(name) >= num_classes:
                raise ValueError(f'{folder}: ImageNet-V2 folders are class indices '
                                 f'0..{num_classes - 1}')
            for file in sorted(os.listdir(folder)):
                if file.lower().endswith(IMAGE_EXTENSIONS):
                    data_list.append(dict(img_path=osp.join(folder, file),
                                          gt_label=int(name)))
        if not data_list:
            raise FileNotFoundError(f'no images in the class folders of {root}')
        return data_list
