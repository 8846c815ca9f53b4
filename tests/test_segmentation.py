"""Semantic segmentation: UperNet configs, the tools (train, test --tta, dist_train),
resume, learning on synthetic ADE20k-format data, and clear errors."""
import glob
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import torch

import mmvision_ext  # noqa: F401
from conftest import ROOT, assert_tensors_close, load_tool, run_tool, saved_activation_bytes
from mmvision_ext.analysis import count_params, tensor_forward
from mmvision_ext.apis import init_model
from thesis_figures import UPERNET_PARAMS

# The module's tests share a trained model: make test keeps them on one worker.
pytestmark = pytest.mark.xdist_group('segmentation_demo')

DEMO = 'configs/upernet_patchconvnet_demo_synthetic.py'


MAIN_PROCESS_LOADING = ['train_dataloader.num_workers=0', 'val_dataloader.num_workers=0',
                        'test_dataloader.num_workers=0']


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
def trained_demo(ade_root, tmp_path_factory):
    """The demo config, as `make demo` trains it: 1500 iterations (4.5 minutes on an idle
    2-core machine, 5 on one math thread, more while other tests run). Data loads in the
    main process (the same batches, by per-sample seeding): make test's other worker
    has the other core."""
    work = tmp_path_factory.mktemp('demo_run')
    run_tool('tools/train.py', DEMO, '--work-dir', work, '--cfg-options', *data_opts(ade_root),
             *MAIN_PROCESS_LOADING, timeout=2400)
    return work, work / 'iter_1500.pth'


# --- configs against the thesis ------------------------------------------------------
# DeiT-S's row is Swin's DeiT-S UperNet baseline (thesis T5.3 quotes it), whose neck
# differs from the XCiT pyramid all our configs use: ours has 53.4 M, 2.7 % more.
OTHER_SETUP = {'deit_s'}


@pytest.mark.parametrize('name', [
    pytest.param(n, marks=pytest.mark.xfail(strict=True, reason="Swin's DeiT-S baseline setup"))
    if n in OTHER_SETUP else n for n in sorted(UPERNET_PARAMS)])
def test_upernet_params_within_2_percent_of_the_thesis(name):
    """PatchConvNet: the thesis counts the whole ImageNet model, whose attention-pooling
    head and classifier a segmenter does not use; we add them to compare (and check that
    they explain the whole difference)."""
    model = init_model(ROOT / f'configs/upernet_{name}.py', device='meta')
    ours = count_params(model) / 1e6
    if name.startswith('patchconvnet'):
        from mmvision_ext.converters import build_classifier
        arch = name.split('_')[1]
        clf = build_classifier(dict(family='patchconvnet', arch=arch, num_classes=1000,
                                    img_size=224, distilled=False, multi_token=False), 'meta')
        ours += count_params(clf.head) / 1e6
    thesis, _ = UPERNET_PARAMS[name]
    assert abs(ours - thesis) / thesis <= 0.02


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
        model = init_model(path, device='meta')
        assert model.decode_head.num_classes == 150, path.name
        size = model.data_preprocessor.size
        assert size[0] % model.backbone.patch_size == 0, path.name


# --- learning, testing with TTA, resuming ---------------------------------------------
@pytest.fixture(scope='session')
def demo_single(trained_demo, ade_root):
    """Metrics of tools/test.py (single scale) on the trained demo, one math thread."""
    work, ckpt = trained_demo
    run_tool('tools/test.py', DEMO, ckpt, '--work-dir', work / 'ss', '--cfg-options',
             *data_opts(ade_root), env=dict(OMP_NUM_THREADS='1'))
    return read_test_metrics(work / 'ss')


def test_upernet_learns_on_synthetic_ade20k(demo_single):
    metrics = demo_single
    # Chance (uniform over 10 classes) is about 0.05 mIoU; majority class about 0.01.
    assert metrics['mIoU'] >= 50.0, metrics


@pytest.fixture(scope='session')
def demo_tta(trained_demo, ade_root):
    """Metrics of tools/test.py --tta (6 scales x 2 flips) on the trained demo, one math
    thread (as each rank of the distributed test below)."""
    work, ckpt = trained_demo
    run_tool('tools/test.py', DEMO, ckpt, '--tta', '--work-dir', work / 'ms',
             '--cfg-options', *data_opts(ade_root), env=dict(OMP_NUM_THREADS='1'))
    return read_test_metrics(work / 'ms')


def test_tta_multi_scale_flip_reports_miou(demo_single, demo_tta):
    assert demo_tta['mIoU'] >= 50.0, demo_tta
    # The merged predictions are not the single view's (the dumped config names the
    # TTA model whether or not --tta ran, so it proves nothing; the frame test below
    # checks the merge itself).
    assert (demo_tta['aAcc'], demo_tta['mIoU']) != (demo_single['aAcc'], demo_single['mIoU'])


def test_tta_merges_the_views_of_each_image_in_its_own_frame(trained_demo, ade_root):
    """The config's 12 views (6 scales x 2 flips) of one held-out image through the trained
    demo: every view differs, each flipped view is mapped back to the image's frame (on
    the labelled pixels it agrees with its unflipped twin far better than with that twin
    mirrored), and the
    TTA prediction is the argmax of the mean of the 12 views' class probabilities."""
    import numpy as np
    from mmengine.dataset import Compose, pseudo_collate
    from mmseg.models import SegTTAModel
    from PIL import Image
    _, ckpt = trained_demo
    model = init_model(ROOT / DEMO, ckpt)
    image = sorted((ade_root / 'images' / 'validation').glob('*.jpg'))[0]
    label = ade_root / 'annotations' / 'validation' / (image.stem + '.png')
    views = Compose(model.cfg.tta_pipeline)(dict(img_path=str(image), seg_map_path=str(label),
                                                 reduce_zero_label=True, seg_fields=[]))
    data = pseudo_collate([views])
    assert len(data['inputs']) == 12
    with torch.no_grad():
        probs = [model.test_step(dict(inputs=inputs, data_samples=samples))[0]
                 .seg_logits.data.softmax(0)
                 for inputs, samples in zip(data['inputs'], data['data_samples'])]
        merged = SegTTAModel(module=model).test_step(data)[0].pred_sem_seg.data[0]
    assert all(not torch.allclose(probs[0], p) for p in probs[1:])
    flips = [s[0].metainfo['flip'] for s in data['data_samples']]
    # On the labelled pixels (the unlabelled "other" area has no right answer), at the
    # scales 1.0 to 1.75: at 0.5 and 0.75 the 128-px image is 4 to 6 patches across,
    # too coarse for the two views to agree. Measured on the first six held-out images
    # of one trained demo: 0.75 to 1.0 from scale 1.0 on (0.75 for this image at 1.0)
    # against 0.03 to 0.43 for the mirrored twin; 0.33 to 0.96 at 0.5 and 0.75. A
    # demo trained with other float rounding gave 0.93 to 1.0 for this image.
    labelled = torch.from_numpy(np.asarray(Image.open(label)) != 0)
    for i in range(4, 12, 2):
        plain, flipped = (probs[i], probs[i + 1]) if flips[i + 1] else (probs[i + 1], probs[i])
        agree = (plain.argmax(0) == flipped.argmax(0))[labelled].float().mean()
        mirrored = (plain.argmax(0) == flipped.argmax(0).flip(-1))[labelled].float().mean()
        assert agree > 0.6 and agree > mirrored + 0.3, (i, agree, mirrored)
    by_hand = torch.stack(probs).mean(0).argmax(0)
    assert torch.equal(merged, by_hand)


def test_dist_test_equals_single_process_with_and_without_tta(trained_demo, demo_single,
                                                              demo_tta, ade_root):
    """tools/dist_test.sh on 2 CPU processes, single-scale and --tta: the metrics
    gathered from the two ranks are the single-process ones."""
    work, ckpt = trained_demo
    env = {**os.environ, 'PORT': '29542', 'OMP_NUM_THREADS': '1'}
    for tta, expected in (([], demo_single), (['--tta'], demo_tta)):
        out = work / ('dist' + ''.join(tta))
        proc = subprocess.run(
            ['bash', 'tools/dist_test.sh', DEMO, str(ckpt), '2', *tta, '--work-dir', str(out),
             '--cfg-options', *data_opts(ade_root)],
            cwd=ROOT, capture_output=True, text=True, env=env, timeout=900)
        assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
        got = read_test_metrics(out)
        for key in ('aAcc', 'mIoU', 'mAcc'):
            assert got[key] == pytest.approx(expected[key], abs=0.01), (tta, key)


def test_dist_train_two_processes_on_cpu(ade_root, tmp_path):
    work = tmp_path / 'dist'
    # LOGLEVEL=INFO makes torchrun report the worker group it started and how it ended.
    env = {**os.environ, 'PORT': '29512', 'OMP_NUM_THREADS': '1', 'LOGLEVEL': 'INFO'}
    proc = subprocess.run(
        ['bash', 'tools/dist_train.sh', DEMO, '2', '--work-dir', str(work), '--verbose',
         '--cfg-options', *data_opts(ade_root), 'train_dataloader.batch_size=2', 'train_dataloader.num_workers=1',
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


def test_console_shows_progress_and_metrics_and_the_log_file_keeps_all(ade_root, tmp_path):
    """By default the console has progress bars, the metrics and where the outputs are,
    and mmengine's full log goes to the work dir; --verbose brings it to the console."""
    opts = ['--cfg-options', *data_opts(ade_root), *short_run_opts(4, 4),
            'train_dataloader.num_workers=0', 'val_dataloader.num_workers=0',
            'val_dataloader.dataset.indices=2']
    quiet = run_tool('tools/train.py', DEMO, '--work-dir', tmp_path / 'quiet', *opts)
    console = (quiet.stdout + quiet.stderr).replace('\r', '\n')
    assert 'train: 100%' in console and '4/4' in console
    assert re.search(r'val \(iteration 4\): aAcc [\d.]+, mIoU [\d.]+, mAcc [\d.]+', console)
    assert f'checkpoints and logs: {tmp_path / "quiet"}' in console
    assert 'Iter(train)' not in console and 'System environment' not in console
    assert 'Warning' not in console  # the known, harmless ones are filtered
    log, = (tmp_path / 'quiet').glob('*/*.log')
    assert 'System environment' in log.read_text() and 'Iter(train) [4/4]' in log.read_text()
    verbose = run_tool('tools/train.py', DEMO, '--work-dir', tmp_path / 'verbose', '--verbose',
                       *opts)
    assert 'Iter(train) [4/4]' in verbose.stdout and 'train: 100%' not in verbose.stdout


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


def test_gradient_checkpointing_of_backbone_neck_and_head_keeps_the_gradients():
    from mmengine.model import revert_sync_batchnorm
    x = torch.randn(2, 3, 128, 128)
    runs = []
    for with_cp in (False, True):
        torch.manual_seed(0)
        model = init_model(ROOT / DEMO, cfg_options={
            f'model.{part}.with_cp': with_cp for part in ('backbone', 'neck', 'decode_head')})
        model = revert_sync_batchnorm(model).train()
        net = tensor_forward(model, (128, 128))
        out, kept = saved_activation_bytes(lambda: net(x), model)
        out.square().mean().backward()
        runs.append((model.state_dict(), kept,
                     {n: p.grad for n, p in model.named_parameters() if p.grad is not None}))
    (state, kept, grads), (state_cp, kept_cp, grads_cp) = runs
    # The same keys (checkpoints load either way), batch norms' statistics updated once.
    assert_tensors_close(state, state_cp, atol=1e-6)
    assert_tensors_close(grads, grads_cp, atol=1e-6)
    # Measured on this model: 34 % kept with all three, 40 % / 48 % / 80 % when the
    # neck's / the head's / the backbone's checkpointing is left out.
    assert kept_cp < 0.37 * kept, (kept_cp, kept)


def test_show_dir_paints_every_test_image(trained_demo, ade_root, tmp_path):
    """Given the test set only (the config's training set is not there)."""
    _, ckpt = trained_demo
    # A process of its own: mmengine's visualizer is a per-process instance, which a
    # test run earlier in this process would have tied to its own (removed) work dir.
    run_tool('tools/test.py', DEMO, ckpt, '--show-dir', tmp_path / 'vis', '--work-dir',
             tmp_path / 'w', '--cfg-options', f'test_dataloader.dataset.data_root={ade_root}',
             'train_dataloader.dataset.data_root=/nowhere', 'test_dataloader.dataset.indices=3')
    assert len(list((tmp_path / 'vis').rglob('*.png'))) == 3


# --- pictures and inference on the trained demo ------------------------------------------
def test_plot_logs_draws_every_logged_point(trained_demo, tmp_path, capsys):
    """One point per training log line of the run's text log (1500 iterations, one line
    every 50) and one mIoU point for its single evaluation; two runs on one figure."""
    import re

    from PIL import Image
    work, _ = trained_demo
    text_log, = work.glob('*/*.log')
    logged = len(re.findall(r'Iter\(train\) \[\s*\d+/1500\]', text_log.read_text()))
    assert logged >= 30
    out = tmp_path / 'curves.png'
    load_tool('tools/analysis/plot_logs.py')['main'](
        [str(work), str(work), '--labels', 'a', 'b', '--keys', 'loss', 'mIoU', '--out', str(out)])
    printed = capsys.readouterr().out
    assert f'a: loss {logged} points, mIoU 1 points' in printed
    assert f'b: loss {logged} points, mIoU 1 points' in printed
    assert Image.open(out).size[0] > 400
    out = tmp_path / 'curves.svgz'  # any format matplotlib writes
    load_tool('tools/analysis/plot_logs.py')['main']([str(work), '--out', str(out)])
    assert out.read_bytes()[:2] == b'\x1f\x8b'  # gzip
    with pytest.raises(SystemExit):  # a key the logs do not have: one error line
        load_tool('tools/analysis/plot_logs.py')['main']([str(work), '--keys', 'mAP',
                                                           '--out', str(tmp_path / 'x.png')])
    assert 'error: no values of mAP in the logs' in capsys.readouterr().err


def test_confusion_matrix_agrees_with_the_test_metrics(trained_demo, demo_single, ade_root,
                                                       tmp_path):
    """The matrix counts the pixels mmseg's IoUMetric counts: its pixel accuracy is the
    test's aAcc, its mean recall over present classes the test's mAcc, and a model that
    learned the classes has the largest count of each row on the diagonal."""
    import numpy as np
    work, ckpt = trained_demo
    out = tmp_path / 'cm.png'
    load_tool('tools/analysis/confusion_matrix.py')['main'](
        [DEMO, str(ckpt), '--out', str(out), '--cfg-options', *data_opts(ade_root)])
    report = json.loads(out.with_suffix('.json').read_text())
    counts = np.array(report['counts'])
    assert abs(100 * report['pixel_accuracy'] - demo_single['aAcc']) < 0.01
    recall = [r for r in report['recall'] if r is not None]
    assert abs(100 * np.mean(recall) - demo_single['mAcc']) < 0.01
    present = counts.sum(1) > 0
    assert (counts.argmax(1)[present] == np.arange(len(counts))[present]).all()
    assert out.stat().st_size > 10_000


def test_inference_tool_paints_and_reports_segmentation(trained_demo, ade_root, tmp_path):
    """Held-out images: a labelled picture each, and a JSON whose classes are the
    dataset's names; the label maps it writes (numbered as the annotation files, as
    mmseg's --out) agree with the ground truth. Two images of one name keep apart."""
    import shutil

    import numpy as np
    from PIL import Image
    work, ckpt = trained_demo
    images = tmp_path / 'images'
    images.mkdir()
    val = sorted((ade_root / 'images' / 'validation').glob('*.jpg'))[:3]
    for p in val:
        shutil.copy(p, images / p.name)
    Image.open(val[0]).save(images / (val[0].stem + '.png'))  # same stem, other format
    load_tool('tools/inference.py')['main'](
        [str(ROOT / DEMO), str(ckpt), str(images), '--out', str(tmp_path / 'out')])
    results = json.loads((tmp_path / 'out' / 'predictions.json').read_text())
    names = init_model(ROOT / DEMO, device='meta').cfg.metainfo['classes']
    assert len(results) == 4
    assert len({r['picture'] for r in results}) == len({r['label_map'] for r in results}) == 4
    hits = total = 0
    for r in results:
        assert {c['name'] for c in r['classes']} <= {n.strip() for n in names}
        assert abs(sum(c['fraction'] for c in r['classes']) - 1) < 1e-4
        assert Path(r['picture']).stat().st_size > 10_000
        pred = np.asarray(Image.open(r['label_map'])).astype(int)
        gt = np.asarray(Image.open(ade_root / 'annotations' / 'validation' /
                                   (Path(r['image']).stem + '.png')))
        labelled = gt > 0
        hits += (pred[labelled] == gt[labelled]).sum()
        total += labelled.sum()
    assert hits / total > 0.8, hits / total
    # Bad input: one line each, and no output folder made for nothing.
    fake = tmp_path / 'fake' / 'notes.jpg'
    fake.parent.mkdir()
    fake.write_text('not an image')
    for source, out, culprit in [(fake, tmp_path / 'out2', f'{fake} is not a readable image'),
                                 (val[0], fake, f'--out: {fake} is a file; name a folder')]:
        proc = run_tool('tools/inference.py', ROOT / DEMO, ckpt, source, '--out', out,
                        check=False)
        assert proc.returncode != 0 and 'Traceback' not in proc.stderr, proc.stderr[-2000:]
        assert culprit in proc.stderr.strip().splitlines()[-1]
    assert not (tmp_path / 'out2').exists()
