"""The stack's fixes for torch 2.14 (mmvision_ext/compat.py), each shown to be needed."""
import pickle

import pytest
import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

import mmvision_ext  # noqa: F401
from mmvision_ext.compat import load_from_local


class Pairs(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        g = torch.Generator().manual_seed(i)
        x = torch.randn(4, generator=g)
        return dict(x=x, y=x.sum(0, keepdim=True))


class Regressor(BaseModel):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 1)

    def forward(self, x, y, mode='loss'):
        return dict(loss=((self.fc(x) - y) ** 2).mean())


def _train(work_dir, iters, resume):
    runner = Runner(
        model=Regressor(), work_dir=str(work_dir), default_scope='mmengine', resume=resume,
        train_dataloader=dict(dataset=Pairs(), batch_size=4,
                              sampler=dict(type='DefaultSampler', shuffle=True),
                              collate_fn=dict(type='default_collate')),
        train_cfg=dict(by_epoch=False, max_iters=iters),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=1e-2)),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=2, by_epoch=False)))
    runner.train()
    return runner


def test_mmengine_checkpoints_need_more_than_plain_weights_only(tmp_path):
    """Without the fix, torch.load's weights_only default refuses mmengine's checkpoints."""
    _train(tmp_path, 2, resume=False)
    with pytest.raises(pickle.UnpicklingError, match='HistoryBuffer'):
        torch.load(tmp_path / 'iter_2.pth', weights_only=True)
    assert load_from_local(str(tmp_path / 'iter_2.pth'), 'cpu')['meta']['iter'] == 2


def test_resume_from_last_checkpoint(tmp_path):
    _train(tmp_path, 2, resume=False)
    runner = _train(tmp_path, 4, resume=True)
    assert runner.iter == 4
    assert (tmp_path / 'iter_4.pth').is_file()


def test_fix_keeps_arbitrary_pickles_out(tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'payload': Pairs()}, path)
    with pytest.raises(pickle.UnpicklingError):
        load_from_local(str(path), 'cpu')


def test_cpu_ddp_gets_no_device_ids():
    """mmengine passes device_ids=[LOCAL_RANK]; torch refuses them for CPU modules."""
    import os

    import torch.distributed as dist
    from mmengine.model.wrappers import MMDistributedDataParallel
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT='29533')
    dist.init_process_group('gloo', rank=0, world_size=1)
    try:
        ddp = MMDistributedDataParallel(module=Regressor(), device_ids=[0])
        assert ddp.device_ids is None
    finally:
        dist.destroy_process_group()


def test_roi_align_reads_channels_last_maps_correctly():
    """An isotropic backbone's maps reach Mask R-CNN's RoIAlign channels-last; mmcv's
    kernel read them as NCHW memory and returned scrambled features."""
    from mmcv.ops import RoIAlign
    from mmcv.ops.roi_align import ext_module

    from mmvision_ext.models.backbones import PatchConvNet
    backbone = PatchConvNet(arch=dict(patch_size=16, embed_dims=32, depth=2,
                                      layer_scale_init=0.1), out_indices=(-1,))
    feat = nn.Conv2d(32, 8, 1)(backbone(torch.randn(2, 3, 96, 128))[0])
    assert not feat.is_contiguous() and feat.is_contiguous(memory_format=torch.channels_last)
    rois = torch.tensor([[0, 1., 1., 6., 5.], [1, 0., 2., 7.5, 5.5]])
    layer = RoIAlign((7, 7), spatial_scale=1.0, sampling_ratio=2)
    expected = layer(feat.contiguous(), rois)

    # The bare kernel on the channels-last tensor: wrong, without any error.
    raw = feat.new_zeros(expected.shape)
    ext_module.roi_align_forward(feat.detach(), rois, raw, feat.new_zeros(0), feat.new_zeros(0),
                                 aligned_height=7, aligned_width=7, spatial_scale=1.0,
                                 sampling_ratio=2, pool_mode=1, aligned=True)
    assert not torch.allclose(raw, expected.detach(), atol=1e-4)

    x = feat.detach().requires_grad_()
    got = layer(x, rois)
    torch.testing.assert_close(got, expected)
    got.square().sum().backward()
    ref = feat.detach().contiguous().requires_grad_()
    layer(ref, rois).square().sum().backward()
    torch.testing.assert_close(x.grad, ref.grad)


def test_roi_align_and_nms_take_bfloat16():
    """train.py --amp autocasts to bfloat16, which mmcv's RoIAlign and NMS kernels lack
    (Mask R-CNN stopped at its first NMS): they compute in float32; RoIAlign gives and
    backpropagates bfloat16, as mmdet expects of it."""
    from mmcv.ops import RoIAlign, batched_nms
    feat = torch.randn(1, 4, 16, 16, requires_grad=True)
    rois = torch.tensor([[0, 1., 2., 9., 12.], [0, 4., 0., 15., 7.]])
    layer = RoIAlign((3, 3), spatial_scale=1.0, sampling_ratio=2)
    expected = layer(feat, rois)
    expected.square().sum().backward()
    x = feat.detach().bfloat16().requires_grad_()
    got = layer(x, rois.bfloat16())
    got.square().sum().backward()
    assert got.dtype == x.grad.dtype == torch.bfloat16
    torch.testing.assert_close(got.float(), expected, atol=0.05, rtol=0.02)
    torch.testing.assert_close(x.grad.float(), feat.grad, atol=0.05, rtol=0.02)

    boxes = torch.tensor([[0., 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30], [0, 0, 10, 10]])
    scores = torch.tensor([0.9, 0.8, 0.7, 0.6])
    _, keep = batched_nms(boxes.bfloat16(), scores.bfloat16(), torch.tensor([0, 0, 0, 1]),
                          dict(type='nms', iou_threshold=0.5))
    assert keep.tolist() == [0, 2, 3]


def test_negative_hue_shift_rotates_the_hue():
    """mmcv's adjust_hue fails on numpy 2 for a negative shift (ColorJitter with hue > 0
    draws one half of the time); fixed, -h undoes +h, as a rotation does."""
    import mmcv
    import numpy as np
    rng = np.random.RandomState(0)
    img = rng.randint(0, 256, size=(8, 8, 3)).astype(np.uint8)
    for backend in ('cv2', 'pillow'):
        back = mmcv.adjust_hue(mmcv.adjust_hue(img, 0.2, backend=backend), -0.2, backend=backend)
        assert not np.array_equal(mmcv.adjust_hue(img, -0.2, backend=backend), img)
        # HSV round trips of 8-bit images are lossy by a few levels.
        assert np.abs(back.astype(int) - img).mean() < 4, backend


def test_test_metrics_json_is_written_by_the_main_process_only(tmp_path, monkeypatch):
    """Every rank of a distributed test ran LoggerHook's dump of the metrics into the
    same file; a non-main rank now writes nothing there."""
    from mmengine.hooks import logger_hook
    from mmvision_ext import compat
    path = tmp_path / 'metrics.json'
    monkeypatch.setattr(compat, 'is_main_process', lambda: False)
    logger_hook.dump({'mIoU': 1.0}, str(path))
    assert not path.exists()
    monkeypatch.setattr(compat, 'is_main_process', lambda: True)
    logger_hook.dump({'mIoU': 1.0}, str(path))
    assert path.read_text() == '{"mIoU": 1.0}'


def test_mmpretrain_models_import_beside_a_transformers_they_predate(tmp_path):
    """transformers >= 4.28 without the names mmpretrain 1.2.0's BLIP imports (as in later
    releases) made every mmpretrain model fail to import; our classifiers build there."""
    import os
    import subprocess
    import sys
    package = tmp_path / 'transformers'
    package.mkdir()
    (package / '__init__.py').write_text("__version__ = '5.0.0'\n")
    info = tmp_path / 'transformers-5.0.0.dist-info'
    info.mkdir()
    (info / 'METADATA').write_text('Metadata-Version: 2.1\nName: transformers\nVersion: 5.0.0\n')
    code = ("from mmpretrain.utils.dependency import satisfy_requirement\n"
            "assert satisfy_requirement('transformers>=4.28.0')  # the stand-in counts\n"
            "assert satisfy_requirement('pycocotools')\n"
            "import mmvision_ext\n"
            "from mmpretrain.registry import MODELS\n"
            "model = MODELS.build(dict(type='ImageClassifier', backbone=dict(\n"
            "    type='ResMLP', arch='s12', img_size=32)))\n"
            "print(type(model).__name__)\n")
    path = os.pathsep.join(filter(None, [str(tmp_path), os.environ.get('PYTHONPATH')]))
    done = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                          env={**os.environ, 'PYTHONPATH': path})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith('ImageClassifier')
