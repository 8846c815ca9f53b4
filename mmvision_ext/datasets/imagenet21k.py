"""ImageNet-21k as its releases unpack (fall11: 21,841 synsets, 14.2 M images; winter21:
19,167 synsets, 13.2 M images): one folder per WordNet synset, ``<root>/n01440764/*.JPEG``.

Walking some 20,000 folders at every start of every rank takes minutes on shared file
systems, and MMEngine's usual list of one dict per image takes gigabytes per rank. So
the folder is listed once, into a file list (``write_file_list``, or
``tools/dataset_converters/imagenet21k_file_list.py``), and the dataset keeps that list
as one bytes buffer with line offsets and an int32 label array: a few hundred MB for
13 M images, read in seconds, shared copy-on-write by the dataloader workers.

The file list is mmpretrain's annotation format, ``<synset>/<file> <label>`` per line
with labels numbering the sorted synsets (``meta/classes.txt``), so mmpretrain's
``ImageNet21k`` reads the same files.
"""
import os
import os.path as osp
import re

import numpy as np
from mmpretrain.datasets import BaseDataset

from mmvision_ext.errors import UserError
from mmvision_ext.registry import DATASETS

SYNSET = re.compile(r'n\d{8}')
IMAGE_EXTENSIONS = ('.jpeg', '.jpg', '.png')
FILE_LIST_TOOL = 'tools/dataset_converters/imagenet21k_file_list.py'


def write_file_list(image_root, file_list, classes_file, overwrite=False):
    """List the images of ``image_root`` (one folder per synset) into ``file_list`` and
    the sorted synsets into ``classes_file``; returns (images, classes). Existing
    files are kept unless ``overwrite``."""
    for path in (file_list, classes_file):
        if osp.exists(path) and not overwrite:
            raise UserError(f'{path} exists; pass --overwrite to replace it')
    if not osp.isdir(image_root):
        raise UserError(f'ImageNet-21k image folder not found: {image_root}')
    synsets = sorted(e.name for e in os.scandir(image_root)
                     if e.is_dir() and SYNSET.fullmatch(e.name))
    if not synsets:
        raise UserError(f'{image_root} has no synset folders (n01440764, ...): give the '
                        'folder that holds them')
    for path in (file_list, classes_file):
        os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    count = 0
    with open(file_list + '.part', 'w') as out:
        for label, synset in enumerate(synsets):
            names = sorted(e.name for e in os.scandir(osp.join(image_root, synset))
                           if e.name.lower().endswith(IMAGE_EXTENSIONS))
            out.writelines(f'{synset}/{name} {label}\n' for name in names)
            count += len(names)
    if count == 0:
        os.remove(file_list + '.part')
        raise UserError(f'the synset folders of {image_root} hold no images '
                        f'({", ".join(IMAGE_EXTENSIONS)})')
    os.replace(file_list + '.part', file_list)  # a list is complete or absent
    with open(classes_file, 'w') as out:
        out.writelines(f'{s}\n' for s in synsets)
    return count, len(synsets)


def read_file_list(file_list, synsets):
    """(buffer, line starts, labels) of a file list; labels follow each line's synset
    folder, and must agree with the label the line states."""
    with open(file_list, 'rb') as f:
        buffer = np.frombuffer(f.read(), dtype=np.uint8)
    if buffer.size == 0:
        raise UserError(f'{file_list} is empty')
    ends = np.flatnonzero(buffer == ord('\n'))
    if ends.size == 0 or ends[-1] != buffer.size - 1:
        ends = np.append(ends, buffer.size)
    starts = np.concatenate(([0], ends[:-1] + 1))
    # The first 9 bytes of each line are its synset; vectorised lookup in the sorted list.
    heads = np.empty((starts.size, 9), dtype=np.uint8)
    for k in range(9):  # column by column: no (lines x 9) index array
        heads[:, k] = buffer[starts + k]
    heads = heads.view('S9').ravel()
    table = np.array(synsets, dtype='S9')
    labels = np.searchsorted(table, heads).astype(np.int32)
    bad = (labels >= len(table)) | (table[np.minimum(labels, len(table) - 1)] != heads)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise UserError(f'{file_list}, line {i + 1}: its folder is not a synset of the '
                        f'classes file; rewrite both with {FILE_LIST_TOOL}')
    return buffer, np.append(starts, ends[-1] + 1), labels


@DATASETS.register_module()
class ImageNet21kFileList(BaseDataset):
    """ImageNet-21k (a release folder of synset folders) through its file list.

    Args:
        data_root (str): the dataset folder, e.g. ``data/imagenet21k``.
        data_prefix (str): the images' folder under ``data_root``. Default: ``'train'``.
        ann_file (str): the file list under ``data_root``. Default: ``'meta/train.txt'``.
        classes_file (str): the sorted synsets under ``data_root``.
            Default: ``'meta/classes.txt'``.
        pipeline (list): the data pipeline.
        **kwargs: mmpretrain ``BaseDataset`` arguments (``indices``, ``test_mode``, ...).
    """

    def __init__(self, data_root, data_prefix='train', ann_file='meta/train.txt',
                 classes_file='meta/classes.txt', pipeline=(), **kwargs):
        classes_path = osp.join(data_root, classes_file)
        if not osp.isfile(classes_path) or not osp.isfile(osp.join(data_root, ann_file)):
            raise UserError(
                f'ImageNet-21k needs its file list {osp.join(data_root, ann_file)} and '
                f'{classes_path}; write them once with: python {FILE_LIST_TOOL} '
                f'{osp.join(data_root, data_prefix)} {data_root}')
        with open(classes_path) as f:
            synsets = [line.strip() for line in f if line.strip()]
        self._synsets = synsets
        super().__init__(ann_file=ann_file, data_root=data_root,
                         data_prefix=dict(img_path=data_prefix), pipeline=pipeline,
                         metainfo=dict(classes=tuple(synsets)), **kwargs)

    def full_init(self):
        if self._fully_initialized:
            return
        self._buffer, self._starts, self._labels = read_file_list(self.ann_file, self._synsets)
        self._order = None
        if self._indices is not None:
            self._order = self._subset_order(self._indices)
        self._fully_initialized = True

    def _subset_order(self, indices):
        order = np.arange(len(self._labels))
        if isinstance(indices, int):
            return order[:indices] if indices >= 0 else order[indices:]
        return order[np.asarray(indices)]

    def __len__(self):
        self.full_init()
        return len(self._labels) if self._order is None else len(self._order)

    def get_data_info(self, idx):
        self.full_init()
        i = int(idx if self._order is None else self._order[idx])
        line = self._buffer[self._starts[i]:self._starts[i + 1] - 1].tobytes().decode()
        return dict(img_path=osp.join(self.data_prefix['img_path'], line.rsplit(' ', 1)[0]),
                    gt_label=int(self._labels[i]), sample_idx=idx if idx >= 0 else len(self) + idx)

    def get_gt_labels(self):
        self.full_init()
        return self._labels if self._order is None else self._labels[self._order]

    def get_cat_ids(self, idx):
        return [int(self.get_data_info(idx)['gt_label'])]
