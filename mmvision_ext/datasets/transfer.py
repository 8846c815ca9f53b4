"""The transfer-learning sets of the thesis (Tables 3.6, 5.4, 6.10) that mmpretrain does
not read as released, or reads unsafely:

- ``CIFAR10Python`` / ``CIFAR100Python``: the python versions of CIFAR-10/100
  (``cifar-10-batches-py/``, ``cifar-100-python/``). mmpretrain's CIFAR datasets
  unpickle them with ``pickle.load``, which runs whatever code a file names; these read
  them with the unpickler of ``two_level.py``, which builds only arrays and plain values.
- ``INaturalist``: iNaturalist 2018 / 2019 at the species level, from the released json
  (``train2018.json`` / ``val2018.json``, ``train2019.json`` / ``val2019.json``).

Flowers-102 and Stanford Cars are mmpretrain's ``Flowers102`` and ``StanfordCars``
(their ``.mat`` files are read by SciPy, which runs no code).

CIFAR's images are decoded arrays (``img``), so their pipelines start after
``LoadImageFromFile``; the transfer configs take the family's pipelines from the second
transform on.
"""
import json
import os.path as osp

import numpy as np
from mmpretrain.datasets import BaseDataset

from mmvision_ext.errors import ConfigError
from mmvision_ext.registry import DATASETS
from .two_level import CIFAR100TwoLevel, cifar_images, load_array_pickle

CIFAR_URL = 'https://www.cs.toronto.edu/~kriz/cifar.html'


@DATASETS.register_module()
class CIFAR10Python(BaseDataset):
    """CIFAR-10, python version: 50,000 training and 10,000 test images, 10 classes.

    Args:
        data_root (str): the folder holding ``cifar-10-batches-py/``.
        split (str): ``'train'`` (``data_batch_1`` to ``_5``) or ``'test'``.
        **kwargs: mmpretrain's ``BaseDataset`` arguments (pipeline, indices, ...).
    """
    base_folder = 'cifar-10-batches-py'
    files = {'train': [f'data_batch_{i}' for i in range(1, 6)], 'test': ['test_batch']}

    def __init__(self, data_root, split='train', **kwargs):
        if split not in self.files:
            raise ConfigError(f"CIFAR10Python: split must be 'train' or 'test', got {split!r}")
        self.split = split
        folder = osp.join(data_root, self.base_folder)
        missing = [f for f in self.files[split] + ['batches.meta']
                   if not osp.isfile(osp.join(folder, f))]
        if missing:
            raise FileNotFoundError(
                f'CIFAR10Python: {osp.join(folder, missing[0])} not found (the python version, '
                f'cifar-10-python.tar.gz from {CIFAR_URL}, extracted into {data_root})')
        names = load_array_pickle(osp.join(folder, 'batches.meta'))['label_names']
        kwargs.setdefault('metainfo', dict(classes=tuple(names)))
        super().__init__(ann_file='', data_root=data_root, **kwargs)

    def load_data_list(self):
        folder = osp.join(self.data_root, self.base_folder)
        entries = [load_array_pickle(osp.join(folder, name)) for name in self.files[self.split]]
        images = cifar_images(np.concatenate([e['data'] for e in entries]))
        labels = [y for e in entries for y in e['labels']]
        if len(images) != len(labels):
            raise ValueError(f'{self.split}: {len(images)} images but {len(labels)} labels')
        return [dict(img=img, gt_label=int(y)) for img, y in zip(images, labels)]


@DATASETS.register_module()
class CIFAR100Python(CIFAR100TwoLevel):
    """CIFAR-100, python version, with its 100 fine labels as ``gt_label``:
    ``CIFAR100TwoLevel`` at ``label_level='fine'``.

    Args:
        data_root (str): the folder holding ``cifar-100-python/``.
        split (str): ``'train'`` (50,000 images) or ``'test'`` (10,000).
        **kwargs: mmpretrain's ``BaseDataset`` arguments.
    """

    def __init__(self, data_root, split='train', **kwargs):
        super().__init__(data_root, split, label_level='fine', **kwargs)


@DATASETS.register_module()
class INaturalist(BaseDataset):
    """iNaturalist 2018 (8,142 species) or 2019 (1,010) from its released json.

    Class ``i`` is the ``i``-th category of the json in the order of its ids, so the
    training and validation files give the same indices; ``classes`` are the json's
    category names (the 2018 release keeps the species names in its separate
    ``categories.json``).

    Args:
        data_root (str): the dataset folder; the json's ``file_name`` paths are relative
            to it (``train_val2018/<super-category>/<id>/<image>.jpg``).
        ann_file (str): ``train2018.json`` / ``val2018.json`` (or 2019's), relative to
            ``data_root`` or absolute.
        **kwargs: mmpretrain's ``BaseDataset`` arguments.
    """

    def __init__(self, data_root, ann_file, **kwargs):
        path = ann_file if osp.isabs(ann_file) else osp.join(data_root, ann_file)
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'iNaturalist annotations not found: {path} (train2018.json / val2018.json '
                'or 2019\'s, from https://github.com/visipedia/inat_comp, in data_root)')
        with open(path) as f:
            self._ann = json.load(f)
        categories = sorted(self._ann['categories'], key=lambda c: c['id'])
        self._index = {c['id']: i for i, c in enumerate(categories)}
        kwargs.setdefault('metainfo', dict(classes=tuple(c['name'] for c in categories)))
        super().__init__(ann_file=ann_file, data_root=data_root, **kwargs)

    def load_data_list(self):
        ann, self._ann = self._ann, None  # iNaturalist 2018's json is large: keep the list only
        category_of = {a['image_id']: a['category_id'] for a in ann['annotations']}
        return [dict(img_path=osp.join(self.data_root, image['file_name']),
                     gt_label=self._index[category_of[image['id']]])
                for image in ann['images']]
