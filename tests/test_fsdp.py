"""Fully sharded training (``tools/train.py --fsdp``: torch's FSDP2 through MMEngine's
FlexibleRunner) on 2 gloo processes on the CPU, against DDP on the same runner."""
import os
import re
import subprocess

import pytest
import torch

from conftest import ROOT, assert_tensors_close, run_tool

DEMO = 'configs/upernet_patchconvnet_demo_synthetic.py'


def _opts(data, iters):
    loaders = ('train_dataloader', 'val_dataloader', 'test_dataloader')
    return ([f'{k}.dataset.data_root={data}' for k in loaders]
            + [f'{k}.num_workers=0' for k in loaders]  # persistent_workers left on
            + ['train_dataloader.batch_size=2', 'env_cfg.dist_cfg.backend=gloo',
               f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}',
               'default_hooks.checkpoint.interval=3', 'default_hooks.logger.interval=1',
               'param_scheduler.0.start_factor=1.0', 'param_scheduler.0.end=1',
               'param_scheduler.1.begin=1', f'param_scheduler.1.end={iters + 1}',
               # a tiny UperNet: two PatchConvNet blocks of width 32
               'model.backbone.arch.depth=2', 'model.backbone.arch.embed_dims=32',
               'model.neck.in_channels=32', 'model.decode_head.in_channels=[32,32,32,32]',
               'model.auxiliary_head.in_channels=32'])


def _dist_train(work, port, *args):
    # Ports of their own: a torchrun of another test on the same port would join its group.
    env = {**os.environ, 'PORT': str(port), 'OMP_NUM_THREADS': '1'}
    proc = subprocess.run(['bash', 'tools/dist_train.sh', DEMO, '2', '--work-dir', str(work),
                           '--verbose', *args], cwd=ROOT, capture_output=True, text=True,
                          env=env, timeout=600)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-4000:]
    return [float(m) for m in re.findall(r'Iter\(train\) \[\d+/\d+\].*? loss: ([\d.]+)', log)], log


def _weights(path):
    state = torch.load(path, map_location='cpu', weights_only=False)['state_dict']
    return {k.removeprefix('module.'): v for k, v in state.items()}


@pytest.mark.long(50)
def test_fsdp_trains_as_ddp_and_its_checkpoint_tests_and_resumes(tmp_path):
    """Three iterations sharded (each backbone block its own unit) and checkpointed (as
    the largest models train) give the losses, weights and buffers of DDP without
    checkpointing; the checkpoint holds the full state (no shards), which tools/test.py
    reads in one process and a sharded run resumes from, optimizer state included."""
    from mmvision_ext.datasets import make_dataset
    data = tmp_path / 'ade'
    make_dataset('ade20k', str(data), num_train=16, num_val=4, size=128, seed=1)
    with_cp = [f'model.{part}.with_cp=True' for part in ('backbone', 'neck', 'decode_head')]
    fsdp_losses, log = _dist_train(tmp_path / 'fsdp', 29571, '--fsdp', '--cfg-options',
                                   *_opts(data, 3), *with_cp)
    assert 'FullyShardStrategy' in log
    ddp_losses, _ = _dist_train(tmp_path / 'ddp', 29572, '--cfg-options', *_opts(data, 3),
                                'runner_type=FlexibleRunner', 'strategy.type=DDPStrategy')
    assert len(fsdp_losses) == 3 and fsdp_losses[0] != fsdp_losses[2]  # it trains
    assert fsdp_losses == ddp_losses  # as logged, 4 decimals
    sharded = _weights(tmp_path / 'fsdp/iter_3.pth')
    replicated = _weights(tmp_path / 'ddp/iter_3.pth')
    assert all(type(v) is torch.Tensor for v in sharded.values())  # gathered, not DTensors
    assert_tensors_close(sharded, replicated, atol=1e-5)

    test = run_tool('tools/test.py', DEMO, tmp_path / 'fsdp/iter_3.pth', '--work-dir',
                    tmp_path / 'test', '--cfg-options', *_opts(data, 3))
    assert re.search(r'mIoU', test.stdout + test.stderr)

    ckpt = torch.load(tmp_path / 'fsdp/iter_3.pth', map_location='cpu', weights_only=False)
    assert 'backbone.blocks.0.gamma_1' in ckpt['optimizer']['state']  # full, by name
    resumed, log = _dist_train(tmp_path / 'resumed', 29573, '--fsdp', '--resume',
                               str(tmp_path / 'fsdp/iter_3.pth'), '--cfg-options',
                               *_opts(data, 4), *with_cp)
    assert 'Iter(train) [4/4]' in log and 'Iter(train) [1/4]' not in log
    assert len(resumed) == 1 and 0 < resumed[0] < fsdp_losses[0]


def test_fsdp_without_a_launcher_is_one_clear_error(tmp_path):
    proc = run_tool('tools/train.py', DEMO, '--fsdp', '--work-dir', tmp_path / 'w',
                    '--cfg-options', f'train_dataloader.dataset.data_root={tmp_path}',
                    check=False)
    assert proc.returncode != 0 and 'Traceback' not in proc.stderr
    assert '--fsdp shards over processes: launch with tools/dist_train.sh' in proc.stderr
