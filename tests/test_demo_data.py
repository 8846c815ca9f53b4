"""make_demo_data.py writes real ADE20k / COCO / ImageNet layouts that the stock
dataset classes read, with the statistics a learnable scene set needs."""
import json

import numpy as np
import pytest
from PIL import Image

from conftest import ROOT, run_tool
from mmvision_ext.datasets.synthetic import ADE20K_NAMES, NUM_CLASSES, SYNTHETIC_CLASSES, \
    make_dataset


def test_ade20k_names_are_the_first_ade20k_classes():
    from mmseg.datasets import ADE20KDataset
    assert ADE20KDataset.METAINFO['classes'][:NUM_CLASSES] == ADE20K_NAMES
    assert NUM_CLASSES >= 10


def test_mmseg_ade20k_dataset_reads_the_synthetic_set(synthetic_root):
    from mmengine.registry import init_default_scope
    from mmseg.datasets import ADE20KDataset
    init_default_scope('mmseg')
    ds = ADE20KDataset(
        data_root=str(synthetic_root / 'ade20k'),
        data_prefix=dict(img_path='images/validation', seg_map_path='annotations/validation'),
        metainfo=dict(classes=ADE20K_NAMES), reduce_zero_label=True,
        pipeline=[dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                  dict(type='PackSegInputs')])
    assert len(ds) == 6
    # Labels 1..C map onto 0..C-1 unchanged; 0 ("other") becomes the ignore index.
    assert ds.label_map is None or all(ds.label_map[i] == i for i in range(NUM_CLASSES))
    seen = set()
    for i in range(len(ds)):
        sample = ds[i]
        seg = sample['data_samples'].gt_sem_seg.data.numpy()
        assert seg.shape[-2:] == sample['inputs'].shape[-2:]
        values = set(np.unique(seg).tolist())
        assert values <= set(range(NUM_CLASSES)) | {255}
        assert 255 in values and len(values - {255}) >= 2  # background + several objects
        seen |= values - {255}
    assert len(seen) >= 6


def test_mmdet_coco_dataset_reads_the_synthetic_set(synthetic_root):
    from mmdet.datasets import CocoDataset
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    ds = CocoDataset(
        data_root=str(synthetic_root / 'coco'), ann_file='annotations/instances_val2017.json',
        data_prefix=dict(img='val2017/'), metainfo=dict(classes=SYNTHETIC_CLASSES),
        pipeline=[dict(type='LoadImageFromFile'),
                  dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
                  dict(type='PackDetInputs')])
    assert len(ds) == 6
    for i in range(len(ds)):
        sample = ds[i]['data_samples']
        inst = sample.gt_instances
        assert len(inst) >= 2
        assert inst.labels.max() < NUM_CLASSES
        masks = inst.masks.to_ndarray()
        assert (masks.reshape(len(masks), -1).sum(1) >= 16).all()  # masks non-empty
        boxes = inst.bboxes.tensor.numpy()
        h, w = sample.ori_shape
        assert (boxes[:, 2] > boxes[:, 0]).all() and (boxes[:, 3] > boxes[:, 1]).all()
        assert boxes[:, [0, 2]].max() <= w and boxes[:, [1, 3]].max() <= h


def test_coco_polygons_are_valid_and_match_boxes(synthetic_root):
    from pycocotools import mask as mask_utils
    ann = json.loads((synthetic_root / 'coco/annotations/instances_train2017.json').read_text())
    assert [c['id'] for c in ann['categories']] == list(range(1, NUM_CLASSES + 1))
    images = {im['id']: im for im in ann['images']}
    for a in ann['annotations']:
        assert a['iscrowd'] == 0 and len(a['segmentation']) == 1
        poly = a['segmentation'][0]
        assert len(poly) >= 6 and len(poly) % 2 == 0  # at least a triangle
        im = images[a['image_id']]
        rle = mask_utils.frPyObjects([poly], im['height'], im['width'])
        area = mask_utils.area(mask_utils.merge(rle))
        assert abs(area - a['area']) <= 0.15 * a['area'] + 10  # raster vs polygon area
        x, y, w, h = mask_utils.toBbox(mask_utils.merge(rle))
        assert abs(x - a['bbox'][0]) <= 2 and abs(y - a['bbox'][1]) <= 2


def test_imagenet_layout_and_balance(synthetic_root):
    root = synthetic_root / 'imagenet'
    assert sorted(p.name for p in (root / 'train').iterdir()) == sorted(SYNTHETIC_CLASSES)
    lines = (root / 'meta/val.txt').read_text().split('\n')
    labels = [int(line.split()[1]) for line in lines if line]
    assert len(labels) == 10 and sorted(set(labels)) == list(range(NUM_CLASSES))
    for line in lines[:3]:
        rel = line.split()[0]
        assert Image.open(root / 'val' / rel).size == (64, 64)


def test_same_seed_same_bytes_other_seed_other_scenes(tmp_path):
    make_dataset('ade20k', str(tmp_path / 'a'), 3, 1, 64, seed=5)
    make_dataset('ade20k', str(tmp_path / 'b'), 3, 1, 64, seed=5)
    make_dataset('ade20k', str(tmp_path / 'c'), 3, 1, 64, seed=6)
    rel = 'annotations/training/ADE_train_00000001.png'
    a, b = (np.asarray(Image.open(tmp_path / d / rel)) for d in 'ab')
    assert np.array_equal(a, b)
    assert not np.array_equal(a, np.asarray(Image.open(tmp_path / 'c' / rel)))


def test_cli_rejects_unknown_task_and_protects_existing_data(tmp_path):
    proc = run_tool('tools/make_demo_data.py', tmp_path / 'x', '--task', 'cityscapes', check=False)
    assert proc.returncode != 0 and "invalid choice: 'cityscapes'" in proc.stderr
    out = tmp_path / 'mine'
    out.mkdir()
    (out / 'precious.txt').write_text('keep me')
    proc = run_tool('tools/make_demo_data.py', out, '--task', 'coco', check=False)
    assert proc.returncode != 0 and 'not empty' in proc.stderr
    assert (out / 'precious.txt').read_text() == 'keep me'
    run_tool('tools/make_demo_data.py', tmp_path / 'new', '--task', 'coco',
             '--num-train', '2', '--num-val', '1')
    assert (tmp_path / 'new/annotations/instances_val2017.json').is_file()


@pytest.mark.parametrize('bad', [dict(num_train=0), dict(size=8)])
def test_bad_sizes_are_refused(tmp_path, bad):
    args = dict(num_train=2, num_val=1, size=64) | bad
    with pytest.raises(ValueError):
        make_dataset('coco', str(tmp_path), **args)


@pytest.mark.long(50)
def test_make_demo_runs_end_to_end_and_reports_its_pictures(tmp_path):
    """tools/demo.py (what `make demo` runs), shortened to 4 training iterations: data,
    training, single- and multi-scale evaluation, labelled overlays and the training
    curves, with the paths printed and a summary written; a short console."""
    import json

    from PIL import Image
    proc = run_tool('tools/demo.py', '--work-dir', tmp_path / 'demo', '--data-root',
                    tmp_path / 'data', '--iters', '4', timeout=900)
    summary = json.loads((tmp_path / 'demo' / 'summary.json').read_text())
    assert 0 <= summary['miou_single_scale'] <= 1 and 0 <= summary['miou_multi_scale'] <= 1
    assert len(summary['overlays']) == 4
    for path in summary['overlays'] + [summary['curves']]:
        assert Image.open(ROOT / path if not path.startswith('/') else path).size[0] > 300
        assert path in proc.stdout
    assert len((proc.stdout + proc.stderr).splitlines()) < 60


def test_a_demo_set_cut_short_is_generated_again(tmp_path):
    """`make demo` interrupted while it writes its dataset: the next one takes the
    generation up again, instead of refusing the folder as the user's, and writes the
    set it wants afresh."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from conftest import load_tool
    root = tmp_path / 'synthetic_ade20k'
    generating = subprocess.Popen(
        [sys.executable, '-c', 'import runpy, sys; '
         f'runpy.run_path("tools/demo.py", run_name="tool")["ensure_data"]({str(root)!r})'],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while generating.poll() is None and len(list(root.rglob('*.jpg'))) < 10:
        time.sleep(0.05)
    os.kill(generating.pid, signal.SIGKILL)
    generating.wait()
    assert 10 <= len(list(root.rglob('*.jpg'))) < 400  # cut short
    demo = load_tool('tools/demo.py')
    demo['DATA'].update(num_train=4, num_val=2, size=64)  # a small set, quickly
    demo['ensure_data'](str(root))
    assert json.loads((root / '.mmvx_synthetic.json').read_text()) == demo['DATA']
    assert len(list(root.rglob('*.jpg'))) == 4 + 2  # none of the other set's left
