"""ImageNet-21k through its file list, and the thesis' other ImageNet test sets:
ImageNet-ReaL's relabelled validation images and ImageNet-V2's class-index folders, on
hand-made files whose scores are known."""
import json
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.evaluator import Evaluator
from PIL import Image

import mmvision_ext  # noqa: F401  (registers the metric and the dataset)

from conftest import run_tool


def _sample(index, top1, num_classes=5):
    score = torch.full((num_classes,), 0.1)
    score[top1] = 0.9
    return dict(img_path=f'val/n0/ILSVRC2012_val_{index:08d}.JPEG', pred_score=score,
                pred_label=torch.tensor([top1]), gt_label=torch.tensor([0]))


def test_real_accuracy_counts_any_fitting_label_and_skips_empty_sets(tmp_path):
    # Images 1-5: ReaL labels, and the top-1 predictions below.
    (tmp_path / 'real.json').write_text(json.dumps([[1], [2, 3], [], [4], [0]]))
    predictions = [1, 3, 2, 0, 0]  # hit, hit (second label), not scored, miss, hit
    evaluator = Evaluator([dict(type='mmpretrain.Accuracy', topk=(1,)),
                           dict(type='ImageNetReaLAccuracy',
                                real_json=str(tmp_path / 'real.json'))])
    evaluator.process([_sample(i + 1, p) for i, p in enumerate(predictions)])
    metrics = evaluator.evaluate(5)
    assert metrics['real/top1'] == pytest.approx(100 * 3 / 4)
    assert metrics['accuracy/top1'] == pytest.approx(100 * 2 / 5)  # beside it, as usual


def test_real_refuses_images_outside_the_validation_set(tmp_path):
    from mmvision_ext.evaluation import ImageNetReaLAccuracy
    (tmp_path / 'real.json').write_text(json.dumps([[1]]))
    metric = ImageNetReaLAccuracy(str(tmp_path / 'real.json'))
    with pytest.raises(ValueError, match='ILSVRC2012_val'):
        metric.process(None, [dict(_sample(1, 1), img_path='photo.jpg')])
    with pytest.raises(FileNotFoundError, match='real.json'):
        ImageNetReaLAccuracy(str(tmp_path / 'nowhere.json'))


def test_imagenet_v2_labels_are_the_folder_numbers(tmp_path):
    from mmvision_ext.datasets import ImageNetV2
    root = tmp_path / 'imagenetv2-matched-frequency-format-val'
    for folder, count in (('0', 1), ('2', 2), ('10', 1), ('999', 1)):
        (root / folder).mkdir(parents=True)
        for k in range(count):
            Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(root / folder / f'{k}.jpeg')
    ds = ImageNetV2(data_root=str(root))
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    labels = {(info['img_path'].split('/')[-2], info['gt_label']) for info in infos}
    assert labels == {('0', 0), ('2', 2), ('10', 10), ('999', 999)}  # not sorted positions
    assert len(ds) == 5 and ds.metainfo['classes'][999] == 'toilet tissue, toilet paper, bathroom tissue'
    (root / 'n01440764').mkdir()
    with pytest.raises(ValueError, match='class indices'):
        ImageNetV2(data_root=str(root))


def _imagenet21k_folder(root, per_class):
    """A release-style folder: synset folders of JPEGs (and a stray non-image)."""
    from PIL import Image
    for synset, count in per_class.items():
        (root / synset).mkdir(parents=True)
        for i in range(count):
            Image.new('RGB', (20 + i, 16), color=(i * 40, 0, 0)).save(
                root / synset / f'{synset}_{i}.JPEG')
    (root / 'n00000001' / 'readme.txt').write_text('not an image')


def test_imagenet21k_file_list_dataset(tmp_path):
    """The file list names every image once with the index of its sorted synset; the
    dataset reads it back (paths, labels, subsets, a real pipeline) as mmpretrain's
    ImageNet21k reads the same file; a missing list, an existing list, a line whose
    folder is not a listed synset and synset folders without images each give one clear
    error."""
    from mmengine.registry import init_default_scope
    from mmpretrain.datasets import ImageNet21k
    from mmvision_ext.datasets import ImageNet21kFileList
    from mmvision_ext.errors import UserError
    root = tmp_path / 'imagenet21k'
    _imagenet21k_folder(root / 'train', {'n00000002': 2, 'n00000001': 3, 'n09999999': 1})
    with pytest.raises(UserError, match='imagenet21k_file_list.py'):
        ImageNet21kFileList(data_root=str(root))
    proc = run_tool('tools/dataset_converters/imagenet21k_file_list.py', root / 'train', root)
    assert '6 images of 3 synsets' in proc.stdout
    assert (root / 'meta/classes.txt').read_text().split() == \
        ['n00000001', 'n00000002', 'n09999999']
    proc = run_tool('tools/dataset_converters/imagenet21k_file_list.py', root / 'train', root,
                    check=False)
    assert proc.returncode != 0 and 'exists; pass --overwrite' in proc.stderr

    init_default_scope('mmpretrain')  # the pipeline's transforms
    ds = ImageNet21kFileList(data_root=str(root), pipeline=[dict(type='LoadImageFromFile'),
                                                            dict(type='PackInputs')])
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    assert [(osp.basename(d['img_path']), d['gt_label']) for d in infos] == [
        ('n00000001_0.JPEG', 0), ('n00000001_1.JPEG', 0), ('n00000001_2.JPEG', 0),
        ('n00000002_0.JPEG', 1), ('n00000002_1.JPEG', 1), ('n09999999_0.JPEG', 2)]
    assert all(osp.isfile(d['img_path']) for d in infos)
    assert ds.metainfo['classes'] == ('n00000001', 'n00000002', 'n09999999')
    sample = ds[4]
    assert sample['inputs'].shape == (3, 16, 21) and sample['data_samples'].gt_label.item() == 1
    reference = ImageNet21k(data_root=str(root), split='train',
                            classes=list(ds.metainfo['classes']))
    assert [(d['img_path'], int(d['gt_label'])) for d in reference.load_data_list()] == \
        [(d['img_path'], d['gt_label']) for d in infos]
    subset = ImageNet21kFileList(data_root=str(root), indices=[5, 0])
    assert len(subset) == 2 and list(subset.get_gt_labels()) == [2, 0]
    # sample_idx is the index in the subset, as mmengine's datasets give it (Grafit's
    # memory is addressed by it).
    assert [subset.get_data_info(i)['sample_idx'] for i in (0, 1, -1)] == [0, 1, 1]

    lines = (root / 'meta/train.txt').read_text().splitlines()
    (root / 'meta/train.txt').write_text('\n'.join(lines[:2] + ['n00000005/x.JPEG 1']) + '\n')
    with pytest.raises(UserError, match='line 3: its folder is not a synset'):
        len(ImageNet21kFileList(data_root=str(root)))
    empty = tmp_path / 'empty'
    (empty / 'train' / 'n00000001').mkdir(parents=True)
    proc = run_tool('tools/dataset_converters/imagenet21k_file_list.py', empty / 'train', empty,
                    check=False)
    assert proc.returncode != 0 and 'hold no images' in proc.stderr
    assert not (empty / 'meta' / 'train.txt').exists()
