"""Datasets with two label granularities, for Grafit (thesis chapter 2, Table 2.3).

Each sample carries ``coarse_label`` and ``fine_label``; ``gt_label`` is the level the
model trains on (``label_level``). Pack them with
``dict(type='PackInputs', algorithm_keys=('coarse_label', 'fine_label'))``.

- ``CIFAR100TwoLevel``: CIFAR-100's released python format (``cifar-100-python/{train,
  test,meta}``), 20 coarse / 100 fine classes, images in BGR order as mmcv loads
  files. The files are pickles; they are read with
  an unpickler that builds nothing but numpy arrays and plain Python values, so a
  tampered file cannot run code.
- ``INaturalistTwoLevel``: iNaturalist 2018/2019's json (``train2018.json`` /
  ``val2018.json`` and ``categories.json``), any two of the seven taxonomy levels.
- ``ImageNetTwoLevel``: ImageNet in mmpretrain's layout plus a file that maps each of
  the 1000 classes to a coarse class (the 127 WordNet nodes of Huh et al. in the thesis).
"""
import importlib
import io
import json
import os.path as osp
import pickle

import numpy as np
from mmpretrain.datasets import BaseDataset, ImageNet

from mmvision_ext.errors import ConfigError
from mmvision_ext.registry import DATASETS

LEVELS = ('coarse', 'fine')
INAT_LEVELS = ('kingdom', 'phylum', 'class', 'order', 'family', 'genus', 'name')


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles numpy arrays and plain values only (CIFAR's files need nothing else)."""
    ALLOWED = {('numpy.core.multiarray', '_reconstruct'), ('numpy._core.multiarray', '_reconstruct'),
               ('numpy', 'ndarray'), ('numpy', 'dtype'), ('_codecs', 'encode')}

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f'{module}.{name} is not allowed in a dataset file')
        if module.startswith('numpy.core') and np.lib.NumpyVersion(np.__version__) >= '2.0.0':
            module = module.replace('numpy.core', 'numpy._core')
        return getattr(importlib.import_module(module), name)


def load_array_pickle(path):
    """A CIFAR-style pickle (Python 2 strings read as latin-1), without running code."""
    with open(path, 'rb') as f:
        return _ArrayUnpickler(io.BytesIO(f.read()), encoding='latin1').load()


def cifar_images(data):
    """CIFAR's image rows (N, 3072: the R, G, B planes of 32x32 images) as (N, 32, 32, 3)
    arrays in BGR order, as mmcv loads image files: the project's transforms and data
    preprocessors (to_rgb=True) expect it."""
    images = np.asarray(data, dtype=np.uint8).reshape(-1, 3, 32, 32)
    return np.ascontiguousarray(images.transpose(0, 2, 3, 1)[..., ::-1])


def _check_level(level):
    if level not in LEVELS:
        raise ConfigError(f"label_level must be one of {LEVELS}, got {level!r}")
    return level


@DATASETS.register_module()
class CIFAR100TwoLevel(BaseDataset):
    """CIFAR-100 with its 20 coarse and 100 fine labels.

    Args:
        data_root (str): the folder holding ``cifar-100-python/``.
        split (str): ``'train'`` (50,000 images) or ``'test'`` (10,000).
        label_level (str): the level of ``gt_label``: ``'coarse'`` or ``'fine'``.
        **kwargs: mmpretrain's ``BaseDataset`` arguments (pipeline, indices, ...).
    """
    base_folder = 'cifar-100-python'

    def __init__(self, data_root, split='train', label_level='coarse', **kwargs):
        if split not in ('train', 'test'):
            raise ConfigError(f"CIFAR100TwoLevel: split must be 'train' or 'test', got {split!r}")
        self.split = split
        self.label_level = _check_level(label_level)
        folder = osp.join(data_root, self.base_folder)
        if not osp.isfile(osp.join(folder, split)):
            raise FileNotFoundError(
                f'CIFAR-100 not found: {osp.join(folder, split)} (the python version, '
                'cifar-100-python.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html, '
                f'extracted into {data_root})')
        meta = load_array_pickle(osp.join(folder, 'meta'))
        self.coarse_classes = tuple(meta['coarse_label_names'])
        self.fine_classes = tuple(meta['fine_label_names'])
        classes = self.coarse_classes if label_level == 'coarse' else self.fine_classes
        kwargs.setdefault('metainfo', dict(classes=classes))
        super().__init__(ann_file='', data_root=data_root, **kwargs)

    def load_data_list(self):
        entry = load_array_pickle(osp.join(self.data_root, self.base_folder, self.split))
        images = cifar_images(entry['data'])
        coarse, fine = entry['coarse_labels'], entry['fine_labels']
        if not len(images) == len(coarse) == len(fine):
            raise ValueError(f'{self.split}: {len(images)} images but {len(coarse)} coarse and '
                             f'{len(fine)} fine labels')
        level = coarse if self.label_level == 'coarse' else fine
        return [dict(img=img, gt_label=int(y), coarse_label=int(c), fine_label=int(f))
                for img, y, c, f in zip(images, level, coarse, fine)]


@DATASETS.register_module()
class INaturalistTwoLevel(BaseDataset):
    """iNaturalist 2018 / 2019 at two levels of its taxonomy.

    Args:
        data_root (str): the dataset folder (image paths of the json are relative to it).
        ann_file (str): ``train2018.json`` / ``val2018.json`` (or 2019's).
        categories_file (str): ``categories.json`` (the taxonomy of every category id).
        coarse_level (str): the training level, one of ``kingdom, phylum, class, order,
            family, genus, name`` (``name``: species).
        fine_level (str): the evaluation level, finer than or equal to ``coarse_level``.
        label_level (str): the level of ``gt_label``. Default: ``'coarse'``.
        **kwargs: mmpretrain's ``BaseDataset`` arguments.
    """

    def __init__(self, data_root, ann_file, categories_file, coarse_level='order',
                 fine_level='name', label_level='coarse', **kwargs):
        for level in (coarse_level, fine_level):
            if level not in INAT_LEVELS:
                raise ConfigError(f'iNaturalist level {level!r} is not one of {INAT_LEVELS}')
        if INAT_LEVELS.index(fine_level) < INAT_LEVELS.index(coarse_level):
            raise ConfigError(f'fine_level {fine_level!r} is coarser than coarse_level '
                              f'{coarse_level!r}')
        self.levels = (coarse_level, fine_level)
        self.label_level = _check_level(label_level)
        path = categories_file if osp.isabs(categories_file) else osp.join(data_root, categories_file)
        with open(path) as f:
            categories = json.load(f)
        # Class indices of each level: its names in sorted order, the same for every split.
        self.taxonomy = {c['id']: c for c in categories}
        self.level_classes = {lvl: tuple(sorted({c[lvl] for c in categories}))
                              for lvl in self.levels}
        classes = self.level_classes[coarse_level if label_level == 'coarse' else fine_level]
        super().__init__(ann_file=ann_file, data_root=data_root, metainfo=dict(classes=classes),
                         **kwargs)

    def load_data_list(self):
        with open(self.ann_file) as f:
            ann = json.load(f)
        index = {lvl: {name: i for i, name in enumerate(names)}
                 for lvl, names in self.level_classes.items()}
        category_of = {a['image_id']: a['category_id'] for a in ann['annotations']}
        coarse_level, fine_level = self.levels
        data = []
        for image in ann['images']:
            category = self.taxonomy[category_of[image['id']]]
            coarse = index[coarse_level][category[coarse_level]]
            fine = index[fine_level][category[fine_level]]
            data.append(dict(img_path=osp.join(self.data_root, image['file_name']),
                             gt_label=coarse if self.label_level == 'coarse' else fine,
                             coarse_label=coarse, fine_label=fine))
        return data


@DATASETS.register_module()
class ImageNetTwoLevel(ImageNet):
    """ImageNet-1k with a coarse class for each of its 1000 classes. ``classes`` stays
    ImageNet's 1000 names (the map file gives the coarse classes indices only).

    Args:
        coarse_map (str): a text file of 1000 lines, line ``k`` holding the coarse class
            index of ImageNet class ``k`` (e.g. the 127 classes of Huh et al., 2016).
        label_level (str): the level of ``gt_label``. Default: ``'coarse'``.
        **kwargs: mmpretrain's ``ImageNet`` arguments (data_root, split, ...).
    """

    def __init__(self, coarse_map, label_level='coarse', **kwargs):
        self.label_level = _check_level(label_level)
        if not osp.isfile(coarse_map):
            raise FileNotFoundError(f'ImageNet coarse class map not found: {coarse_map}')
        with open(coarse_map) as f:
            self.coarse_of = [int(line.split()[0]) for line in f if line.strip()]
        super().__init__(**kwargs)

    def load_data_list(self):
        data = super().load_data_list()
        if len(self.coarse_of) != len(self.CLASSES):
            raise ConfigError(f'the coarse map has {len(self.coarse_of)} lines for '
                              f'{len(self.CLASSES)} ImageNet classes')
        for info in data:
            fine = int(info['gt_label'])
            info.update(fine_label=fine, coarse_label=self.coarse_of[fine])
            if self.label_level == 'coarse':
                info['gt_label'] = self.coarse_of[fine]
        return data
