"""Semantic segmentation: UperNet configs, the tools (train, test --tta, dist_train),
resume, learning on synthetic ADE20k-format data, and clear errors."""
import glob
import json
import os
import subprocess

import pytest
import torch

import mmvision_ext  # noqa: F401
from conftest import ROOT, SPEC, run_tool
from mmvision_ext.analysis import count_params
from mmvision_ext.apis import init_model

DEMO = 'configs/upernet_patchconvnet_demo_synthetic.py'


def data_opts(root):
    return [f'{loader}.dataset.data_root={root}'
            for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')]


def short_run_opts(iters, interval):
    warmup = max(1, min(iters // 2, 20))
    return [f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}',
            f'default_hooks.checkpoint.interval={interval}', 'default_hooks.checkpoint.max_keep_ckpts=5',
            f'param_scheduler.0.end={warmup}', f'param_scheduler.1.begin={warmup}',
            f'param_scheduler.1.end={iters}', 'default_hooks.logger.interval=1']


def read_test_metrics(work_dir):
    logs = sorted(glob.glob(os.path.join(work_dir, '*', '*.json')), key=os.path.getmtime)
    return json.loads(open(logs[-1]).read().strip().splitlines()[-1])


@pytest.fixture(scope='session')
def ade_root(tmp_path_factory):
    from mmvision_ext.datasets import make_dataset
    root = tmp_path_factory.mktemp('ade') / 'synthetic_ade20k'
    make_dataset('ade20k', str(root), num_train=400, num_val=24, size=128, seed=1)
    return root


@pytest.fixture(scope='session')
def trained_demo(ade_root, tmp_path_factory):
    """The demo config, as `make demo` trains it: 1500 iterations (3 minutes on 2 cores)."""
    work = tmp_path_factory.mktemp('demo_run')
    run_tool('tools/train.py', DEMO, '--work-dir', work, '--cfg-options', *data_opts(ade_root))
    return work, work / 'iter_1500.pth'


# --- configs against the thesis ------------------------------------------------------
UPERNET_SPEC = {  # SPEC section 2: params (M) of the full UperNet model
    'deit3_t': 10.9, 'deit3_s': 41.7, 'deit3_b': 127.7, 'deit3_l': 353.6,
    'patchconvnet_s60': 57.1, 'patchconvnet_b60': 140.6, 'patchconvnet_b120': 229.8,
    'deit_s': 52.0,
}


def test_upernet_spec_figures_are_the_ones_in_spec():
    if not SPEC.is_file():
        pytest.skip('shared/SPEC.md is not beside the repository')
    text = SPEC.read_text()
    for params in UPERNET_SPEC.values():
        assert f'| {params} |' in text


# DeiT-S's row is Swin's DeiT-S UperNet baseline (thesis T5.3 quotes it), whose neck
# differs from the XCiT pyramid all our configs use: ours has 53.4 M, 2.7 % more.
OTHER_SETUP = {'deit_s'}


@pytest.mark.parametrize('name', [
    pytest.param(n, marks=pytest.mark.xfail(strict=True, reason="Swin's DeiT-S baseline setup"))
    if n in OTHER_SETUP else n for n in sorted(UPERNET_SPEC)])
def test_upernet_params_within_2_percent_of_the_thesis(name):
    """PatchConvNet: the thesis counts the whole ImageNet model, whose attention-pooling
    head and classifier a segmenter does not use; we add them to compare (and check that
    they explain the whole difference)."""
    model = init_model(ROOT / f'configs/upernet_{name}.py')
    ours = count_params(model) / 1e6
    if name.startswith('patchconvnet'):
        from mmvision_ext.converters import build_classifier
        arch = name.split('_')[1]
        clf = build_classifier(dict(family='patchconvnet', arch=arch, num_classes=1000,
                                    img_size=224, distilled=False, multi_token=False), 'meta')
        ours += count_params(clf.head) / 1e6
    assert abs(ours - UPERNET_SPEC[name]) / UPERNET_SPEC[name] <= 0.02


def test_get_flops_json_at_512x2048():
    proc = run_tool('tools/analysis/get_flops.py', 'configs/upernet_deit3_t.py',
                    '--shape', '512', '2048', '--json')
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert set(result) >= {'params_m', 'gflops'}
    assert abs(result['params_m'] - 10.9) / 10.9 < 0.02
    # Thesis 148 G excludes attention matmuls; with them ViT-T counts 226 G.
    assert 220 < result['gflops'] < 232


def test_every_upernet_config_builds_with_150_classes_and_whole_patch_crops():
    for path in sorted((ROOT / 'configs').glob('upernet_*.py')):
        if 'demo' in path.name:
            continue
        model = init_model(path)
        assert model.decode_head.num_classes == 150, path.name
        size = model.data_preprocessor.size
        assert size[0] % model.backbone.patch_size == 0, path.name


# --- learning, testing with TTA, resuming ---------------------------------------------
def test_upernet_learns_on_synthetic_ade20k(trained_demo, ade_root):
    work, ckpt = trained_demo
    run_tool('tools/test.py', DEMO, ckpt, '--work-dir', work / 'ss', '--cfg-options',
             *data_opts(ade_root))
    metrics = read_test_metrics(work / 'ss')
    # Chance (uniform over 10 classes) is about 0.05 mIoU; majority class about 0.01.
    assert metrics['mIoU'] >= 50.0, metrics


def test_tta_multi_scale_flip_reports_miou(trained_demo, ade_root):
    work, ckpt = trained_demo
    run_tool('tools/test.py', DEMO, ckpt, '--tta', '--work-dir', work / 'ms',
             '--cfg-options', *data_opts(ade_root))
    metrics = read_test_metrics(work / 'ms')
    assert metrics['mIoU'] >= 50.0, metrics
    # The run used the TTA model over six scales and both flips.
    used = (work / 'ms' / 'upernet_patchconvnet_demo_synthetic.py').read_text()
    assert "type='SegTTAModel'" in used
    for ratio in (0.5, 0.75, 1.0, 1.25, 1.5, 1.75):
        assert f'scale_factor={ratio}' in used


def test_resume_continues_at_the_right_iteration(ade_root, tmp_path):
    work = tmp_path / 'resume'
    opts = [*data_opts(ade_root), 'train_dataloader.batch_size=2']
    run_tool('tools/train.py', DEMO, '--work-dir', work, '--cfg-options', *opts,
             *short_run_opts(4, 2))
    assert (work / 'iter_4.pth').is_file()
    first = torch.load(work / 'iter_4.pth', map_location='cpu', weights_only=False)
    proc = run_tool('tools/train.py', DEMO, '--work-dir', work, '--resume', '--cfg-options',
                    *opts, *short_run_opts(6, 2))
    log = proc.stdout + proc.stderr
    assert 'resumed epoch: 0, iter: 4' in log
    assert 'Iter(train) [5/6]' in log and 'Iter(train) [1/6]' not in log
    second = torch.load(work / 'iter_6.pth', map_location='cpu', weights_only=False)
    assert second['meta']['iter'] == 6
    # The optimizer state came back too: AdamW's step count went on from 4.
    steps = {int(s['step']) for s in second['optimizer']['state'].values()}
    assert steps == {6} and {int(s['step']) for s in first['optimizer']['state'].values()} == {4}


def test_dist_train_two_processes_on_cpu(ade_root, tmp_path):
    work = tmp_path / 'dist'
    # LOGLEVEL=INFO makes torchrun report the worker group it started and how it ended.
    env = {**os.environ, 'PORT': '29512', 'OMP_NUM_THREADS': '1', 'LOGLEVEL': 'INFO'}
    proc = subprocess.run(
        ['bash', 'tools/dist_train.sh', DEMO, '2', '--work-dir', str(work), '--cfg-options',
         *data_opts(ade_root), 'train_dataloader.batch_size=2', 'train_dataloader.num_workers=1',
         'val_dataloader.num_workers=1', 'env_cfg.dist_cfg.backend=gloo',
         *short_run_opts(3, 3)],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=600)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-4000:]
    assert 'Distributed launcher: pytorch' in log
    assert 'global_ranks=[0, 1]' in log and 'global_world_sizes=[2, 2]' in log
    assert 'worker group successfully finished' in log  # both ranks exited cleanly
    assert sorted(p.name for p in work.glob('*.pth')) == ['iter_3.pth']
    ckpt = torch.load(work / 'iter_3.pth', map_location='cpu', weights_only=False)
    assert ckpt['meta']['iter'] == 3


# --- clear errors, no work lost --------------------------------------------------------------
def test_missing_ade20k_root_says_where_it_looked(tmp_path):
    proc = run_tool('tools/train.py', 'configs/upernet_patchconvnet_s60.py', '--work-dir',
                    tmp_path / 'w', '--cfg-options', 'model.backbone.init_cfg=None',
                    *data_opts(tmp_path / 'nowhere'), check=False)
    assert proc.returncode != 0
    assert 'ADE20KDataset' in proc.stderr and str(tmp_path / 'nowhere') in proc.stderr
    assert 'ADEChallengeData2016' in proc.stderr and 'Traceback' not in proc.stderr


def test_missing_pretrained_checkpoint_is_explained(ade_root, tmp_path):
    proc = run_tool('tools/train.py', 'configs/upernet_patchconvnet_s60.py', '--work-dir',
                    tmp_path / 'w', '--cfg-options', *data_opts(ade_root), check=False,
                    env={'MMVX_CHECKPOINTS': str(tmp_path / 'ckpts')})
    assert proc.returncode != 0
    assert f'{tmp_path}/ckpts/patchconvnet_s60_in1k.pth' in proc.stderr
    assert 'official2mmvx.py' in proc.stderr and 'init_cfg=None' in proc.stderr


def test_crop_not_divisible_by_patch_is_refused(ade_root, tmp_path):
    proc = run_tool('tools/train.py', DEMO, '--work-dir', tmp_path / 'w', '--cfg-options',
                    *data_opts(ade_root), 'model.data_preprocessor.size=[120,120]', check=False)
    assert proc.returncode != 0 and 'not divisible by the backbone patch size 16' in proc.stderr


def test_resmlp_unsupported_size_is_explained():
    model = init_model(ROOT / 'configs/upernet_resmlp_s12.py')
    with pytest.raises(ValueError, match=r'tied to a 14x14 grid.*224x224'):
        model(torch.randn(1, 3, 256, 256), mode='tensor')


def test_checkpoint_for_other_classes_is_refused(trained_demo, ade_root, tmp_path):
    _, ckpt = trained_demo
    proc = run_tool('tools/test.py', DEMO, ckpt, '--work-dir', tmp_path / 'w', '--cfg-options',
                    *data_opts(ade_root), 'model.decode_head.num_classes=150',
                    'model.auxiliary_head.num_classes=150', check=False)
    assert proc.returncode != 0
    assert 'decode_head.conv_seg.weight' in proc.stderr and 'number of classes' in proc.stderr


def test_layer_decay_scales_lr_by_depth():
    from mmengine.optim import build_optim_wrapper
    model = init_model(ROOT / 'configs/upernet_deit3_t.py').train()
    wrapper = build_optim_wrapper(model, dict(
        optimizer=dict(type='AdamW', lr=1e-3), constructor='LayerDecayOptimWrapperConstructor',
        paramwise_cfg=dict(layer_decay_rate=0.5)))
    names = {id(p): n for n, p in model.named_parameters()}
    lrs = {names[id(g['params'][0])]: g['lr'] for g in wrapper.optimizer.param_groups}
    assert lrs['decode_head.conv_seg.weight'] == pytest.approx(1e-3)
    assert lrs['backbone.blocks.11.attn.qkv.weight'] == pytest.approx(1e-3 * 0.5)
    assert lrs['backbone.blocks.0.attn.qkv.weight'] == pytest.approx(1e-3 * 0.5 ** 12)
    assert lrs['backbone.pos_embed'] == pytest.approx(1e-3 * 0.5 ** 13)


def test_show_dir_paints_every_test_image(trained_demo, ade_root, tmp_path):
    _, ckpt = trained_demo
    run_tool('tools/test.py', DEMO, ckpt, '--show-dir', tmp_path / 'vis', '--work-dir',
             tmp_path / 'w', '--cfg-options', *data_opts(ade_root),
             'test_dataloader.dataset.indices=3')
    assert len(list((tmp_path / 'vis').rglob('*.png'))) == 3
