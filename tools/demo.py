"""`make demo`: the main job on its embedded default.

Generates the synthetic ADE20k-format set, trains a small UperNet + PatchConvNet on
it with tools/train.py, evaluates the checkpoint single-scale and multi-scale + flip
with tools/test.py, saves labelled prediction overlays and the training curves, and
writes work_dirs/demo/summary.json.
"""
import argparse
import glob
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import time

import numpy as np

from mmvision_ext.runner_utils import output_folder, positive_int

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG = osp.join(ROOT, 'configs', 'upernet_patchconvnet_demo_synthetic.py')
DATA = dict(task='ade20k', num_train=400, num_val=50, size=128, seed=0)


def say(msg):
    print(f'[demo] {msg}', flush=True)


def ensure_data(data_root):
    """Generate the demo set, or reuse it when it was made with the same settings."""
    from mmvision_ext.datasets import make_dataset
    stamp = osp.join(data_root, '.mmvx_synthetic.json')
    if osp.isfile(stamp) and json.load(open(stamp)) == DATA:
        say(f'reusing synthetic ADE20k set in {data_root}')
        return
    if osp.isdir(data_root) and os.listdir(data_root) and not osp.isfile(stamp):
        sys.exit(f'error: {data_root} exists and was not made by the demo; move it away or '
                 'pass --data-root elsewhere')
    # Another set, or one cut short, in a folder the demo made: its images and labels are
    # written afresh, so that none of the other set's stay.
    for name in ('images', 'annotations') if osp.isfile(stamp) else ():
        try:
            shutil.rmtree(osp.join(data_root, name))
        except FileNotFoundError:
            pass
        except OSError as exc:
            sys.exit(f'error: cannot clear the demo set in {data_root} to write it again: {exc}')
    say(f'generating synthetic ADE20k set in {data_root} ({DATA["num_train"]} train / '
        f'{DATA["num_val"]} val images, {DATA["size"]}px)')
    # Stamped before the first image: a generation cut short is taken up again (the
    # images are the same for the same settings) rather than taken for the user's files.
    os.makedirs(data_root, exist_ok=True)
    with open(stamp, 'w') as f:
        json.dump(dict(DATA, complete=False), f)
    make_dataset(DATA['task'], data_root, DATA['num_train'], DATA['num_val'], DATA['size'],
                 DATA['seed'], show_progress=True)
    with open(stamp, 'w') as f:
        json.dump(DATA, f)


def run(args):
    say('$ ' + ' '.join(args))
    proc = subprocess.run([sys.executable, *args], cwd=ROOT)
    if proc.returncode != 0:
        sys.exit(f'error: {" ".join(args)} failed with exit code {proc.returncode}')


def latest_test_metrics(work_dir):
    logs = sorted(glob.glob(osp.join(work_dir, '*', '*.json')), key=osp.getmtime)
    if not logs:
        sys.exit(f'error: no test metrics found in {work_dir}')
    with open(logs[-1]) as f:
        return json.loads(f.read().strip().splitlines()[-1])


def chance_miou(data_root, num_classes):
    """mIoU (0..1) of two trivial predictors on the validation labels: every pixel the
    most frequent class, and uniformly random classes (expected value)."""
    from PIL import Image
    counts = np.zeros(num_classes)
    for path in glob.glob(osp.join(data_root, 'annotations/validation/*.png')):
        seg = np.asarray(Image.open(path)).astype(int) - 1  # reduce_zero_label
        seg = seg[seg >= 0]
        counts += np.bincount(seg, minlength=num_classes)[:num_classes]
    freq = counts / counts.sum()
    present = counts > 0
    majority = np.argmax(counts)
    miou_majority = freq[majority] / present.sum()  # IoU = freq for that class, 0 elsewhere
    # Uniform: intersection p_c / K, union p_c + 1/K - p_c / K.
    k = num_classes
    iou_uniform = (freq / k) / (freq + 1 / k - freq / k)
    return float(miou_majority), float(iou_uniform[present].mean())


def save_overlays(checkpoint, data_root, out_dir, num=4):
    """image | ground truth | prediction with a legend of the class names, for the first
    validation images (predictions shown on the labelled pixels)."""
    from PIL import Image

    from mmvision_ext.inference import Predictor
    from mmvision_ext.visualization import paint_segmentation
    os.makedirs(out_dir, exist_ok=True)
    predictor = Predictor(CONFIG, checkpoint)
    paths = sorted(glob.glob(osp.join(data_root, 'images/validation/*.jpg')))[:num]
    written = []
    for path in paths:
        img = np.asarray(Image.open(path).convert('RGB'))
        label = np.asarray(Image.open(path.replace('images', 'annotations')
                                      .replace('.jpg', '.png'))).astype(np.int64)
        gt = np.where(label > 0, label - 1, 255)  # reduce_zero_label: 0 is "other", ignored
        pred = predictor(path).pred_sem_seg.data[0].numpy()
        pred = np.where(gt == 255, 255, pred)
        out = osp.join(out_dir, osp.basename(path).replace('.jpg', '.png'))
        paint_segmentation(img, pred, predictor.classes, predictor.palette, gt=gt, out=out)
        written.append(out)
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=' '.join(__doc__.split('\n\n')[0].split()))
    parser.add_argument('--work-dir', type=output_folder,
                        help='default: work_dirs/demo in the repository')
    parser.add_argument('--data-root', type=output_folder,
                        help='default: data/synthetic_ade20k in the repository')
    parser.add_argument('--iters', type=positive_int, default=None,
                        help='training iterations (default: the config\'s)')
    parser.add_argument('--verbose', action='store_true',
                        help="mmengine's full log on the console (it is in the work dir anyway)")
    args = parser.parse_args(argv)
    verbose = ['--verbose'] if args.verbose else []
    if not args.verbose:  # as the tools it runs: the overlays below build the model too
        from mmvision_ext.engine.progress import quiet_known_warnings
        quiet_known_warnings()
    # The tools run from the repository; folders given are the user's, from here.
    work_dir = osp.abspath(args.work_dir) if args.work_dir else 'work_dirs/demo'
    data_root = osp.abspath(args.data_root) if args.data_root else 'data/synthetic_ade20k'
    os.chdir(ROOT)
    ensure_data(data_root)

    data_opts = [f'{loader}.dataset.data_root={data_root}'
                 for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')]
    train_opts = list(data_opts)
    if args.iters:
        warmup = min(100, max(1, args.iters // 2))  # the config warms up for 100
        train_opts += [f'train_cfg.max_iters={args.iters}', f'train_cfg.val_interval={args.iters}',
                       f'default_hooks.checkpoint.interval={args.iters}',
                       f'param_scheduler.0.end={warmup}', f'param_scheduler.1.begin={warmup}',
                       f'param_scheduler.1.end={args.iters}']
    start = time.time()
    # --resume: a second `make demo` continues the first run's training (or, if it ended,
    # evaluates again) instead of writing over its checkpoints; `make clean-demo` starts over.
    run(['tools/train.py', CONFIG, '--work-dir', work_dir, '--resume', *verbose,
         '--cfg-options', *train_opts])
    train_seconds = time.time() - start
    checkpoint = osp.join(work_dir, open(osp.join(work_dir, 'last_checkpoint')).read().strip()
                          .split('/')[-1])

    run(['tools/test.py', CONFIG, checkpoint, '--work-dir', osp.join(work_dir, 'test_single'),
         *verbose, '--cfg-options', *data_opts])
    single = latest_test_metrics(osp.join(work_dir, 'test_single'))
    run(['tools/test.py', CONFIG, checkpoint, '--tta', '--work-dir',
         osp.join(work_dir, 'test_multi'), *verbose, '--cfg-options', *data_opts])
    multi = latest_test_metrics(osp.join(work_dir, 'test_multi'))

    num_classes = 10
    majority, uniform = chance_miou(data_root, num_classes)
    overlays = save_overlays(checkpoint, data_root, osp.join(work_dir, 'overlays'))
    from mmvision_ext.visualization import plot_runs
    curves = osp.join(work_dir, 'curves.png')
    plot_runs([work_dir], out=curves)
    summary = dict(
        miou_single_scale=single['mIoU'] / 100, miou_multi_scale=multi['mIoU'] / 100,
        macc_single_scale=single['mAcc'] / 100, aacc_single_scale=single['aAcc'] / 100,
        macc_multi_scale=multi['mAcc'] / 100, aacc_multi_scale=multi['aAcc'] / 100,
        miou_chance_uniform=uniform, miou_chance_majority_class=majority,
        num_classes=num_classes, num_train_images=DATA['num_train'],
        num_val_images=DATA['num_val'], train_seconds=round(train_seconds, 1),
        checkpoint=checkpoint, overlays=overlays, curves=curves,
        config=osp.relpath(CONFIG, ROOT))
    with open(osp.join(work_dir, 'summary.json'), 'w') as f:
        json.dump(summary, f, indent=2)
    say(f'mIoU single-scale {summary["miou_single_scale"]:.3f}, multi-scale + flip '
        f'{summary["miou_multi_scale"]:.3f} (chance: uniform {uniform:.3f}, majority class '
        f'{majority:.3f}); trained in {train_seconds:.0f}s')
    say(f'summary: {osp.join(work_dir, "summary.json")}')
    say(f'training curves: {curves}')
    say(f'labelled overlays: {", ".join(overlays)}')


if __name__ == '__main__':
    main()
