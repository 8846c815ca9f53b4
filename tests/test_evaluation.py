"""The thesis' other ImageNet test sets: ImageNet-ReaL's relabelled validation images
and ImageNet-V2's class-index folders, on hand-made files whose scores are known."""
import json

import numpy as np
import pytest
import torch
from mmengine.evaluator import Evaluator
from PIL import Image

import mmvision_ext  # noqa: F401  (registers the metric and the dataset)


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
