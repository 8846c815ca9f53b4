"""Long runs that get killed: exact resume after SIGKILL (also mid-checkpoint), crash-safe
checkpoints, the NaN/Inf loss guard, and one-line errors for bad input."""
import hashlib
import os
import random
import re
import signal
import subprocess
import sys
import time

import pytest
import torch

from conftest import ROOT, run_tool, tiny_config
from tool_process import ToolProcess, run_script

PLUGINS = ROOT / 'tests' / 'plugins'
SEG_DEMO = ROOT / 'configs' / 'upernet_patchconvnet_demo_synthetic.py'
DET_DEMO = ROOT / 'configs' / 'mask_rcnn_patchconvnet_demo_synthetic.py'


def demo_chaos_config(out, demo, dataset, task_lines):
    """A demo config with data-loader workers (persistent, so that resuming restarts
    them), the ``dataset`` settings and no validation, plus the task's ``task_lines``."""
    loader = f'dataset=dict({dataset})'
    out.mkdir(parents=True, exist_ok=True)
    path = out / f'{demo.stem}_chaos.py'
    path.write_text(f"""
_base_ = ['{demo}']
custom_imports = dict(imports=['mmvision_ext', 'kill_during_save'], allow_failed_imports=False)
train_dataloader = dict(batch_size=4, num_workers=2, persistent_workers=True, {loader})
val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = dict({loader})
""" + task_lines)
    return path


def seg_config(out, ade_root, iters, interval, keep=1):
    """The segmentation demo with drop-path, ``iters`` iterations and a checkpoint every
    ``interval``."""
    warmup = min(5, iters // 2)
    return demo_chaos_config(out, SEG_DEMO, f"data_root='{ade_root}'", f"""
model = dict(backbone=dict(arch=dict(depth=4), drop_path_rate=0.1))
train_cfg = dict(max_iters={iters}, val_interval={iters})
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-2, by_epoch=False, begin=0, end={warmup}),
    dict(type='PolyLR', power=1.0, eta_min=0.0, by_epoch=False, begin={warmup}, end={iters}),
]
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(interval={interval}, max_keep_ckpts={keep}))
""")


def det_config(out, coco_root, epochs, interval):
    """The Mask R-CNN demo with a 2-block backbone on 16 images (4 iterations an epoch)
    and a checkpoint every ``interval`` iterations. Its random streams: flips and
    multi-scale resizes in the workers, the RPN's and the RoI head's box samplers in the
    main process."""
    return demo_chaos_config(out, DET_DEMO, f"data_root='{coco_root}/', indices=16", f"""
model = dict(backbone=dict(arch=dict(depth=2), drop_path_rate=0.1))
train_cfg = dict(max_epochs={epochs}, val_interval={epochs})
param_scheduler = [dict(type='LinearLR', start_factor=1e-2, by_epoch=False, begin=0, end=4)]
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(by_epoch=False, interval={interval}, max_keep_ckpts=1))
""")


def cls_config(out, imagenet_root, epochs, interval):
    """DeiT's recipe (Mixup/CutMix, RandAugment, repeated augmentation, label smoothing)
    on a tiny model with EMA and workers; a checkpoint every ``interval`` iterations, so
    that runs also resume in the middle of an epoch."""
    return tiny_config(
        'deit', imagenet_root, out, epochs=epochs,
        custom_hooks=[dict(type='EMAHook', momentum=1e-3, priority='ABOVE_NORMAL')],
        custom_imports=dict(imports=['mmvision_ext', 'kill_during_save'],
                            allow_failed_imports=False),
        **{'model.backbone.drop_path_rate': 0.1, 'train_dataloader.batch_size': 16,
           'train_dataloader.num_workers': 2,
           'train_dataloader.dataset.indices': 80,  # 5 iterations an epoch
           'train_dataloader.persistent_workers': True,
           'default_hooks.checkpoint.by_epoch': False,
           'default_hooks.checkpoint.interval': interval,
           'default_hooks.checkpoint.max_keep_ckpts': 1,
           'val_dataloader': None, 'val_cfg': None, 'val_evaluator': None})


def train_args(config, work, *extra):
    return [config, '--work-dir', work, '--verbose', *extra]


def train(config, work, *extra, env=None, **kwargs):
    """tools/train.py --verbose with the test plugins importable, to its end; the
    CompletedProcess."""
    return run_script('tools/train.py', train_args(config, work, *extra),
                      env=env_with_plugins(**(env or {})), **kwargs)


def env_with_plugins(**extra):
    return {**os.environ, 'PYTHONPATH': f'{PLUGINS}{os.pathsep}{ROOT}', **extra}


def last_checkpoint(work):
    pointer = work / 'last_checkpoint'
    return pointer.read_text().strip() if pointer.exists() else None


def train_with_kills(config, work, rng, kills=2):
    """Train ``config`` in ``work``, SIGKILLed ``kills`` times at random moments (a random
    0-0.4 s, a few iterations, after the run wrote a new checkpoint), once more while
    writing a checkpoint,
    and resumed with --resume after each kill. Returns the number of kills."""
    done = 0
    for attempt in range(kills + 2):
        kill_on_save = attempt == kills  # the last kill: inside a checkpoint write
        env = env_with_plugins(KILL_ON_SAVE='1' if kill_on_save else '0')
        proc = ToolProcess('tools/train.py',
                           train_args(config, work, *(['--resume'] if attempt else [])),
                           env=env, new_session=True)
        if attempt < kills:
            seen = last_checkpoint(work)
            while proc.poll() is None and last_checkpoint(work) == seen:
                time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 0.4))
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                done += 1
        proc.wait(timeout=300)
        if kill_on_save:
            assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
            done += 1
        elif proc.returncode == 0:
            return done
        elif proc.returncode != -signal.SIGKILL:
            raise AssertionError(proc.stderr[-3000:])
    raise AssertionError('the run did not finish')


def assert_same_training_state(a, b):
    """Weights, optimizer state (and EMA) of two checkpoints are bitwise equal."""
    a = torch.load(a, map_location='cpu', weights_only=False)
    b = torch.load(b, map_location='cpu', weights_only=False)
    assert a['meta']['iter'] == b['meta']['iter']
    compared = 0
    for part in ('state_dict', 'ema_state_dict'):
        assert a.get(part, {}).keys() == b.get(part, {}).keys()
        for k, v in a.get(part, {}).items():
            assert torch.equal(v, b[part][k]), f'{part}.{k} differs'
            compared += 1
    for p, state in a['optimizer']['state'].items():
        for k, v in state.items():
            w = b['optimizer']['state'][p][k]
            assert torch.equal(torch.as_tensor(v), torch.as_tensor(w)), f'optimizer {p}.{k}'
            compared += 1
    assert a['param_schedulers'] == b['param_schedulers']
    return compared


@pytest.mark.parametrize('task', ['segmentation', 'classification', 'detection'])
def test_killed_and_resumed_run_ends_bitwise_equal(task, tmp_path, request):
    """SIGKILL at random moments and once in the middle of a checkpoint write, resumed
    each time: the final weights, optimizer and EMA equal an uninterrupted run's, bit for
    bit (UperNet with drop-path; DeiT's recipe with Mixup/CutMix, RandAugment, repeated
    augmentation, EMA and mid-epoch checkpoints; Mask R-CNN with its box samplers; two
    data-loader workers)."""
    if task == 'segmentation':
        ade_root = request.getfixturevalue('ade_root')
        config, final = seg_config(tmp_path, ade_root, iters=30, interval=3), 'iter_30.pth'
    elif task == 'detection':
        coco_root = request.getfixturevalue('coco_root')
        config, final = det_config(tmp_path, coco_root, epochs=3, interval=2), 'iter_12.pth'
    else:
        imagenet_root = request.getfixturevalue('imagenet_root')
        config, final = cls_config(tmp_path, imagenet_root, epochs=4, interval=3), 'iter_20.pth'
    straight = tmp_path / 'straight'
    proc = train(config, straight)
    assert proc.returncode == 0, proc.stderr[-3000:]
    chaos = tmp_path / 'chaos'
    kills = train_with_kills(config, chaos, random.Random(task))
    assert kills == 3
    compared = assert_same_training_state(straight / final, chaos / final)
    print(f'{task}: {kills} kills, {compared} tensors bitwise equal')
    assert not list(chaos.glob('.*.tmp'))  # the killed write's temporary file is gone


ORPHAN_SCRIPT = """
import os, signal, sys
import numpy as np, torch
from torch.utils.data import DataLoader
from mmvision_ext.engine.reproducibility import make_resumable

class Big(torch.utils.data.Dataset):  # pickled through the pipe, as mmdet's masks are
    def __len__(self):
        return 64
    def __getitem__(self, i):
        return dict(mask=np.ones((512, 512), np.uint8))

loader = make_resumable(DataLoader(Big(), batch_size=2, num_workers=2, collate_fn=list,
                                   persistent_workers=True), seed=0)
it = iter(loader)
next(it)
with open(sys.argv[1], 'w') as f:
    f.write(' '.join(str(w.pid) for w in it._workers))
os.kill(os.getpid(), signal.SIGKILL)  # as the OOM killer: the main process only
"""


def _alive(pid):
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().split(')')[-1].split()[0] not in ('Z', 'X')
    except FileNotFoundError:
        return False


def test_data_loader_workers_die_with_a_killed_main_process(tmp_path):
    """torch's workers outlive a SIGKILLed main process whose results they could not
    deliver (they wait at exit for a full pipe); ours end with it."""
    pids_file = tmp_path / 'pids'
    proc = subprocess.run([sys.executable, '-c', ORPHAN_SCRIPT, str(pids_file)], cwd=ROOT,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
    assert proc.returncode == -signal.SIGKILL
    pids = [int(p) for p in pids_file.read_text().split()]
    assert len(pids) == 2
    deadline = time.time() + 15  # torch's watchdog alone would stop them after 5 s
    while any(map(_alive, pids)) and time.time() < deadline:
        time.sleep(0.2)
    alive = [p for p in pids if _alive(p)]
    for p in alive:
        os.kill(p, signal.SIGKILL)
    assert not alive, f'workers {alive} outlived their main process'


# --- crash-safe checkpoints ------------------------------------------------------------
@pytest.fixture(scope='module')
def short_run(tmp_path_factory, ade_root):
    """(config, work dir) of an 8-iteration segmentation run with checkpoints at 4 and 8."""
    out = tmp_path_factory.mktemp('short_run')
    config = seg_config(out, ade_root, iters=8, interval=4, keep=3)
    proc = train(config, out / 'work')
    assert proc.returncode == 0, proc.stderr[-3000:]
    return config, out / 'work'


def digests(work):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in work.glob('*.pth')}


def copy_work(work, dst):
    import shutil
    shutil.copytree(work, dst)
    return dst


def test_truncated_newest_checkpoint_is_skipped_on_resume(short_run, tmp_path):
    config, work = short_run
    work = copy_work(work, tmp_path / 'work')
    newest = work / 'iter_8.pth'
    newest.write_bytes(newest.read_bytes()[:newest.stat().st_size // 2])  # killed mid-write
    cfg_opts = ['--cfg-options', 'train_cfg.max_iters=9', 'param_scheduler.1.end=9']
    proc = train(config, work, '--resume', *cfg_opts)
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = proc.stdout + proc.stderr
    assert f'skipping checkpoint {newest}: ' in log
    assert 'resumed epoch: 0, iter: 4' in log


def test_new_run_refuses_a_work_dir_with_checkpoints(short_run, tmp_path):
    """Training again into a work dir without --resume would replace the earlier run's
    checkpoints (and last_checkpoint) with its own: one line, nothing touched."""
    config, work = short_run
    work = copy_work(work, tmp_path / 'work')
    before = digests(work)
    proc = train(config, work)
    assert_one_line_error(proc, 'holds the checkpoints of an earlier run (iter_4.pth, '
                                'iter_8.pth); continue it with --resume')
    assert digests(work) == before
    assert (work / 'last_checkpoint').read_text().endswith('iter_8.pth')


def test_explicit_resume_from_a_truncated_checkpoint_is_refused(short_run, tmp_path):
    config, work = short_run
    broken = tmp_path / 'iter_8.pth'
    broken.write_bytes((work / 'iter_8.pth').read_bytes()[:10000])
    proc = train(config, tmp_path / 'w', '--resume', broken)
    assert_one_line_error(proc, str(broken))
    assert not (tmp_path / 'w').exists()


def test_failed_checkpoint_write_stops_with_a_message_and_keeps_the_others(short_run, tmp_path):
    """A file-size limit below one checkpoint's size: the next write fails (as on a full
    disk); the run stops with one line and the earlier checkpoints are untouched."""
    config, work = short_run
    work = copy_work(work, tmp_path / 'work')
    before = digests(work)
    limit = (work / 'iter_4.pth').stat().st_size // 2
    proc = train(config, work, '--resume', '--cfg-options', 'train_cfg.max_iters=12',
                 'param_scheduler.1.end=12', file_size_limit=limit)
    assert_one_line_error(proc, 'could not write')
    assert 'iter_12.pth' in proc.stderr and 'intact' in proc.stderr
    assert digests(work) == before
    assert not list(work.glob('.*.tmp'))
    assert last_checkpoint(work).endswith('iter_8.pth')


# --- non-finite losses -------------------------------------------------------------------
@pytest.mark.parametrize('action', ['stop', 'skip'])
def test_non_finite_loss_stops_or_skips(short_run, tmp_path, action):
    """A learning rate that blows the loss up: 'stop' ends with one line naming the
    iteration and the loss terms, the weights of the last good step saved nowhere else;
    'skip' finishes and counts the skipped steps."""
    config, _ = short_run
    work = tmp_path / 'work'
    # A new run (a resumed one would take its learning rate back from the optimizer
    # state), with checkpoints every 4 iterations.
    proc = train(config, work, '--cfg-options', 'train_cfg.max_iters=16',
                 'param_scheduler.1.end=16', 'optim_wrapper.optimizer.lr=1e30',
                 'optim_wrapper.clip_grad=None', f'non_finite_loss={action}')
    if action == 'stop':
        assert_one_line_error(proc, 'loss is not finite at iteration')
        assert 'decode.loss_ce = nan' in proc.stderr or 'decode.loss_ce = inf' in proc.stderr
        bad = int(re.search(r'loss is not finite at iteration (\d+)', proc.stderr).group(1))
        # Nothing written after the bad step.
        assert all(int(p.stem.split('_')[1]) < bad for p in work.glob('iter_*.pth'))
    else:
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert 'step skipped' in proc.stdout + proc.stderr
        final = torch.load(work / 'iter_16.pth', map_location='cpu', weights_only=False)
        assert all(torch.isfinite(v).all() for v in final['state_dict'].values()
                   if v.is_floating_point())


# --- bad input, one line -------------------------------------------------------------------
def assert_one_line_error(proc, culprit):
    assert proc.returncode != 0
    err = [line for line in proc.stderr.splitlines() if line.strip()]
    assert err and err[-1].startswith('error: '), proc.stderr[-3000:]
    assert culprit in err[-1], err[-1]
    assert 'Traceback' not in proc.stderr, proc.stderr[-3000:]


def test_a_distributed_launch_tells_a_mistake_once(tmp_path):
    """tools/dist_train.sh with a config mistake: its one line, said by the first process
    alone, without torchrun's traceback and failure summary after it; a process killed
    by a signal, which cannot say why, is named by the launcher. The first process starts
    last here: the others must not have the launcher stop it before it has said it."""
    (tmp_path / 'slow_first').mkdir()
    (tmp_path / 'slow_first' / 'sitecustomize.py').write_text(
        "import os, time\nif os.environ.get('LOCAL_RANK') == '0':\n    time.sleep(3)\n")
    env = {**os.environ, 'PORT': '29581', 'PYTHONPATH': str(tmp_path / 'slow_first')}
    proc = subprocess.run(['bash', 'tools/dist_train.sh', str(SEG_DEMO), '2', '--work-dir',
                           str(tmp_path / 'w'), '--cfg-options', 'model.backbone.arch=zz'],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        "error: PatchConvNet: unknown variant 'zz'; choose one of s20, s36, s60, s120, b36, "
        "b60, b120, l60, l120"], proc.stderr[-3000:]
    killed = tmp_path / 'killed.py'
    killed.write_text("import os, signal, time\nif os.environ['RANK'] == '1':\n"
                      "    os.kill(os.getpid(), signal.SIGKILL)\ntime.sleep(60)\n")
    proc = subprocess.run([sys.executable, 'tools/torchrun.py', '--nproc_per_node=2',
                           '--master_port=29582', str(killed)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 128 + signal.SIGKILL
    assert proc.stderr.strip() == \
        'error: process 1 of the run was killed by SIGKILL (out of memory?)'
    # A tool run as one of several tasks of a scheduler, not launched distributed, says
    # its mistakes in every task.
    proc = run_tool('tools/train.py', str(SEG_DEMO), '--cfg-options', 'model.backbone.arch=zz',
                    check=False, env={'SLURM_LOCALID': '1', 'SLURM_NTASKS': '4',
                                      'LOCAL_RANK': '1', 'WORLD_SIZE': '4'})
    assert "unknown variant 'zz'" in proc.stderr


@pytest.mark.parametrize('option,message', [
    ('param_scheduler.begin', 'param_scheduler is a list of 2 entries; say which, from 0 '
                              '(e.g. param_scheduler.0.begin)'),
    ('param_scheduler.5.begin', 'param_scheduler is a list of 2 entries; it has no entry 5'),
    ('optim_wrapper.optimizer.lr.x', 'optim_wrapper.optimizer.lr is 0.002 in this config, '
                                     "not a dict of settings, so it has no 'x'"),
])
def test_a_cfg_option_the_config_cannot_take_names_the_setting_in_the_way(option, message):
    from mmvision_ext.errors import UserError
    from mmvision_ext.runner_utils import load_config
    with pytest.raises(UserError) as exc:
        load_config(SEG_DEMO, {option: 0})
    assert str(exc.value) == f'--cfg-options {option}: {message}'


def test_a_head_and_targets_of_other_class_counts_are_refused():
    """Mixup's targets have data_preprocessor.num_classes entries: a head of another size
    is refused before training (timm's loss would fail at the first step), and a
    model.data_preprocessor option, which would replace the config's whole preprocessor
    (mean, std, Mixup), is pointed to the key the config uses."""
    from mmvision_ext.errors import UserError
    from mmvision_ext.runner_utils import check_num_classes, load_config
    config = ROOT / 'configs' / 'cls_deit3_s_in1k.py'
    with pytest.raises(UserError, match='model.head.num_classes is 10 but '
                                        'data_preprocessor.num_classes is 1000'):
        check_num_classes(load_config(config, {'model.head.num_classes': 10}))
    with pytest.raises(UserError, match='set data_preprocessor.num_classes instead'):
        load_config(config, {'model.data_preprocessor.num_classes': 10})
    check_num_classes(load_config(config, {'model.head.num_classes': 10,
                                           'data_preprocessor.num_classes': 10}))


def test_command_line_mistakes_are_refused_before_any_work(tmp_path, ade_root):
    """A file where a folder goes or the reverse, a file type the tool does not write, a
    count below one, a device that is not one: argparse's one error line, at once,
    rather than a traceback after the work (or a NaN report, or a file of another name
    than the one printed)."""
    demo = str(SEG_DEMO)
    a_file = tmp_path / 'a_file'
    a_file.write_text('the user\'s')
    folder = tmp_path / 'folder'
    folder.mkdir()
    data = [f'{loader}.dataset.data_root={ade_root}'
            for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')]
    cases = [
        ('tools/make_demo_data.py', [a_file, '--task', 'ade20k'],
         f'{a_file} is a file; name a folder'),
        ('tools/train.py', [demo, '--work-dir', a_file], f'{a_file} is a file; name a folder'),
        ('tools/test.py', [demo, 'x.pth', '--show-dir', a_file], 'is a file; name a folder'),
        ('tools/model_converters/official2mmvx.py', ['x.pth', folder], 'is a folder; name a file'),
        ('tools/model_converters/official2mmvx.py', ['x.pth', a_file / 'x.pth'],
         f'{a_file} is a file, not a folder'),
        ('tools/analysis/plot_logs.py', [folder, '--out', tmp_path / 'curves'],
         'name a file ending in .png, .pdf, .svg'),
        ('tools/analysis/confusion_matrix.py', [demo, 'x.pth', '--out', folder],
         'is a folder; name a file'),
        ('tools/analysis/visualize_attention.py', [demo, 'x.pth', 'x.jpg', '--save-map',
                                                   tmp_path / 'map'], 'name a file ending in .npy'),
        ('tools/analysis/separability.py', [demo, 'x.pth', '--splits', '0'],
         'argument --splits: must be at least 1, got 0'),
        ('tools/analysis/benchmark.py', [demo, '--batch-size', '0'], 'must be at least 1'),
        ('tools/analysis/get_flops.py', [demo, '--shape', '8'],
         'error: PatchConvNet: a 8x8 image is smaller than one 16x16 patch'),
        ('tools/inference.py', [demo, 'x.pth', folder, '--out', tmp_path / 'o', '--device', 'gpu'],
         "'gpu' is not a device; use cpu or cuda[:N]"),
        ('tools/inference.py', [demo, 'x.pth', ade_root / 'images/validation', '--out',
                                ade_root / 'images/validation/'], 'is the images folder'),
        ('tools/train.py', [demo, '--work-dir', tmp_path / 'w', '--cfg-options', *data,
                            'train_dataloader.batch_size=0'],
         'train_dataloader.batch_size must be at least 1, got 0'),
        # A run shorter than the warm-up: mmengine's scheduler refused it with a traceback.
        ('tools/train.py', [demo, '--work-dir', tmp_path / 'w', '--cfg-options', *data,
                            'param_scheduler.1.end=50'],
         'a param_scheduler phase would end before it begins (begin=100, end=50)'),
    ]
    for tool, args, culprit in cases:
        proc = run_tool(tool, *args, check=False)
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        assert proc.returncode != 0 and 'Traceback' not in proc.stderr, (tool, proc.stderr[-2000:])
        assert lines and 'error: ' in lines[-1] and culprit in lines[-1], (tool, lines[-3:])
    assert a_file.read_text() == 'the user\'s' and sorted(os.listdir(folder)) == []
    assert not (tmp_path / 'w').exists()
    assert not (ade_root / 'images/validation/predictions.json').exists()
    proc = subprocess.run(['bash', 'tools/dist_train.sh', demo, '0'], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: GPUS must be a number of processes")
    assert "got '0'" in proc.stderr


def test_segmentation_label_maps_replace_nothing(short_run, tmp_path):
    """test.py --out FOLDER writes one label map per image: into a folder that holds
    files (here the annotations themselves) it is refused, so nothing is replaced."""
    config, work = short_run
    annotations = tmp_path / 'annotations'
    annotations.mkdir()
    (annotations / 'ADE_val_00000000.png').write_bytes(b'the ground truth')
    proc = run_script('tools/test.py', [config, work / 'iter_8.pth', '--work-dir', tmp_path / 'w',
                                        '--out', annotations], env=env_with_plugins())
    assert_one_line_error(proc, f'--out {annotations} holds files already')
    assert (annotations / 'ADE_val_00000000.png').read_bytes() == b'the ground truth'


def test_analysis_tools_name_config_mistakes():
    demo = 'upernet_patchconvnet_demo_synthetic'
    for tool in ('tools/analysis/get_flops.py', 'tools/analysis/benchmark.py'):
        proc = run_tool(tool, demo, '--cfg-options', 'model.backbone.fooo=1', check=False)
        assert_one_line_error(proc, "model.backbone.fooo: PatchConvNet has no argument 'fooo'")


def test_unreadable_training_image_is_named(tmp_path, ade_root):
    import shutil
    data = tmp_path / 'ade'
    shutil.copytree(ade_root, data)
    images = sorted((data / 'images' / 'training').glob('*.jpg'))
    for image in images[:len(images) // 2]:  # the first batch surely holds one
        image.write_bytes(image.read_bytes()[:200])
    config = seg_config(tmp_path, data, iters=4, interval=4)
    proc = train(config, tmp_path / 'work')
    assert_one_line_error(proc, 'cannot read ')
    assert str(data / 'images' / 'training') in proc.stderr


@pytest.mark.parametrize('option,culprit', [
    ('model.backbone.arch=xxl99', "unknown variant 'xxl99'; choose one of s20, s36, s60"),
    ('model.backbone.drop_path_rat=0.1', 'model.backbone.drop_path_rat: PatchConvNet has no '
                                         "argument 'drop_path_rat'; did you mean drop_path_rate?"),
    ('train_dataloader.num_worker=0', 'did you mean num_workers'),
    # CheckpointHook takes any key, and failed on it at the first save.
    ('default_hooks.checkpoint.intervall=1', 'default_hooks.checkpoint.intervall: '
                                             "CheckpointHook has no argument 'intervall'; "
                                             'did you mean interval?'),
    ('val_evaluator.iou_metrics=mDice', "--cfg-options val_evaluator.iou_metrics: "
                                        "val_evaluator is None in this config"),
    ('load_from=/nowhere/iter_4.pth', '/nowhere/iter_4.pth'),
])
def test_config_mistakes_are_named_and_leave_the_work_dir_as_it_was(short_run, tmp_path,
                                                                      option, culprit):
    config, work = short_run
    work = copy_work(work, tmp_path / 'work')
    # The earlier run's logs and visualisations, without its checkpoints (which a new
    # run refuses to write beside).
    for path in [*work.glob('*.pth'), work / 'last_checkpoint']:
        path.unlink()
    entries = sorted(os.listdir(work))
    proc = train(config, work, '--cfg-options', option)
    assert_one_line_error(proc, culprit)
    assert sorted(os.listdir(work)) == entries


def test_a_misspelt_metric_key_is_refused(short_run, tmp_path):
    """mmseg's IoUMetric takes any key and dropped this one: mIoU was computed as by
    default, without a word."""
    config, work = short_run
    proc = run_script('tools/test.py', [config, work / 'iter_8.pth', '--work-dir', tmp_path / 'w',
                                        '--cfg-options', 'test_evaluator.iou_metric=mDice'],
                      env=env_with_plugins())
    assert_one_line_error(proc, "test_evaluator.iou_metric: IoUMetric has no argument "
                                "'iou_metric'; did you mean iou_metrics?")
    assert not (tmp_path / 'w').exists()


@pytest.mark.parametrize('tool', ['test', 'resume'])
def test_a_file_that_is_not_a_checkpoint_is_refused(short_run, tmp_path, tool):
    config, work = short_run
    fake = tmp_path / 'notes.pth'
    fake.write_text('not a checkpoint')
    if tool == 'test':
        proc = run_script('tools/test.py', [config, fake, '--work-dir', tmp_path / 'w'],
                          env=env_with_plugins())
    else:
        proc = train(config, tmp_path / 'w', '--resume', fake)
    assert_one_line_error(proc, f'{fake} is not a usable checkpoint')
    assert not (tmp_path / 'w').exists()


def test_resume_with_other_classes_is_refused(short_run, tmp_path):
    config, work = short_run
    resumed = copy_work(work, tmp_path / 'work')
    proc = train(config, resumed, '--resume', '--cfg-options', 'model.decode_head.num_classes=7',
                 'model.auxiliary_head.num_classes=7')
    assert_one_line_error(proc, 'cannot resume from')
    assert 'decode_head.conv_seg.weight' in proc.stderr


def test_full_traceback_on_request(short_run, tmp_path):
    config, _ = short_run
    proc = train(config, tmp_path / 'w', '--cfg-options', 'model.backbone.arch=xxl99',
                 env=dict(MMVX_TRACEBACK='1'))
    assert proc.returncode != 0 and 'Traceback' in proc.stderr


def test_num_workers_zero_just_works(short_run, tmp_path):
    config, _ = short_run
    run_tool('tools/train.py', config, '--work-dir', tmp_path / 'w', '--cfg-options',
             'train_cfg.max_iters=2', 'train_dataloader.num_workers=0',
             env=env_with_plugins())
    assert (tmp_path / 'w' / 'iter_2.pth').exists()


# --- distributed evaluation ----------------------------------------------------------------
def test_classification_dist_test_tta_equals_single_process(tmp_path, imagenet_root):
    """Flip TTA (mmpretrain's AverageClsScoreTTA) on 200 held-out images, 1 and 2
    processes: the same top-1 / top-5, so no image is dropped or counted twice."""
    config = tiny_config('deit', imagenet_root, tmp_path, epochs=1,
                         **{'train_dataloader.dataset.indices': 160})
    run_tool('tools/train.py', config, '--work-dir', tmp_path / 'train')
    ckpt = (tmp_path / 'train' / 'last_checkpoint').read_text().strip()
    run_tool('tools/test.py', config, ckpt, '--tta', '--work-dir', tmp_path / 'single',
             env=dict(OMP_NUM_THREADS='1'))
    env = {**os.environ, 'PORT': '29552', 'OMP_NUM_THREADS': '1'}
    proc = subprocess.run(['bash', 'tools/dist_test.sh', str(config), ckpt, '2', '--tta',
                           '--work-dir', str(tmp_path / 'dist')], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    single, dist = (last_metrics(tmp_path / name) for name in ('single', 'dist'))
    metrics = [k for k in single if k.startswith('accuracy/')]
    assert 'accuracy/top1' in metrics
    assert {k: single[k] for k in metrics} == {k: dist[k] for k in metrics}


def last_metrics(work_dir):
    import json
    logs = sorted(work_dir.glob('*/*.json'))
    return json.loads(logs[-1].read_text().strip().splitlines()[-1])
