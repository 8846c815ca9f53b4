"""Evaluate a checkpoint, single-scale or with test-time augmentation (--tta).

    python tools/test.py configs/upernet_patchconvnet_b60.py CHECKPOINT --tta
    bash tools/dist_test.sh configs/upernet_patchconvnet_b60.py CHECKPOINT 8 --tta

Arguments and environment follow mmseg's and mmdet's tools/test.py.
"""
import argparse
import os
import os.path as osp

from mmengine.config import ConfigDict
from mmengine.model import BaseTTAModel, is_model_wrapper
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import mmvision_ext  # noqa: F401  (compatibility fixes and registration)
from mmvision_ext.engine.checkpoint import check_checkpoint_file
from mmvision_ext.errors import UserError
from mmvision_ext.runner_utils import (
    add_config_and_launcher_args, add_flip_tta, check_checkpoint_matches, check_datasets,
    check_metric_keys, drop_persistent_workers_without_workers, load_config, output_folder,
    output_path_problem, set_launcher_env, task_of, user_errors, without_teacher
)

VISUALIZATION_HOOKS = {'seg': 'SegVisualizationHook', 'det': 'DetVisualizationHook',
                       'cls': 'VisualizationHook'}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test (and evaluate) a model')
    parser.add_argument('config', help='config file or config name')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', type=output_folder,
                        help='where the metrics are dumped as json (default: '
                        'work_dirs/<config name>)')
    parser.add_argument('--out', help='dump the predictions (a .pkl file for detection and '
                        'classification, a folder of label maps for segmentation)')
    parser.add_argument('--show', action='store_true', help='show the predictions')
    parser.add_argument('--show-dir', type=output_folder,
                        help='save a painted prediction of every test image into this folder '
                        '(segmentation: under its vis_data/vis_image/)')
    parser.add_argument('--wait-time', type=float, default=2, help='seconds per shown image')
    parser.add_argument('--tta', action='store_true',
                        help='test-time augmentation: multi-scale + flip (the config\'s '
                             'tta_pipeline and tta_model)')
    add_config_and_launcher_args(parser)
    parser.add_argument('--verbose', action='store_true',
                        help="mmengine's full log on the console too (by default: progress "
                             'bars, metrics and warnings; the log file has everything)')
    args = parser.parse_args(argv)
    set_launcher_env(args.local_rank)
    return args


def enable_visualization(cfg, task, args):
    hook = cfg.default_hooks.get('visualization')
    if hook is None:
        hook = cfg.default_hooks.visualization = ConfigDict(type=VISUALIZATION_HOOKS[task])
    # Absolute: mmdet's hook would put a relative folder under the run's log folder, the
    # others under the current directory.
    show_dir = osp.abspath(args.show_dir) if args.show_dir else None
    # Every image, not every 5000th / 50th (the hooks' default intervals).
    if task == 'cls':
        hook.update(enable=True, interval=1, out_dir=show_dir, show=args.show,
                    wait_time=args.wait_time)
        return
    hook.update(draw=True, interval=1, show=args.show, wait_time=args.wait_time)
    if show_dir and task == 'det':
        hook.test_out_dir = show_dir
    elif show_dir:
        cfg.visualizer.save_dir = show_dir


def bare_model(model):
    """The task model inside DDP and test-time-augmentation wrappers."""
    while is_model_wrapper(model) or isinstance(model, BaseTTAModel):
        model = model.module
    return model


def main(argv=None):
    args = parse_args(argv)
    with user_errors(distributed=args.launcher != 'none') as run:
        cfg = run.cfg = load_config(args.config, args.cfg_options, args.work_dir)
        run.watch(cfg.work_dir)
        check_datasets(cfg, ['test_dataloader'])
        check_metric_keys(cfg, ['test_evaluator'])
        check_checkpoint_file(args.checkpoint)
        task = task_of(cfg)
        if args.tta and task == 'cls':
            add_flip_tta(cfg)
        if args.tta and ('tta_model' not in cfg or 'tta_pipeline' not in cfg):
            raise UserError(f'{args.config} defines no tta_model/tta_pipeline for --tta')
        cfg.launcher = args.launcher
        if not args.verbose:
            cfg.console = 'progress'
        cfg.load_from = args.checkpoint
        # Pretrained backbone weights are replaced by the checkpoint's: do not require them.
        cfg.model.get('backbone', {}).pop('init_cfg', None)
        cfg.model = without_teacher(cfg.model)
        if args.show or args.show_dir:
            enable_visualization(cfg, task, args)
        if args.tta:
            cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
            cfg.tta_model.module = cfg.model
            cfg.model = cfg.tta_model
        if args.out:
            if task != 'seg':
                if not args.out.endswith('.pkl'):
                    raise UserError(f'--out {args.out}: the predictions of detection and '
                                    'classification are dumped as a .pkl file; name one')
                if osp.exists(args.out):
                    raise UserError(f'--out {args.out} exists; remove it or name another file')
            problem = output_path_problem(args.out, folder=task == 'seg')
            if problem:
                raise UserError(f'--out {problem}')
            if task == 'seg':
                if osp.isdir(args.out) and os.listdir(args.out):
                    raise UserError(f'--out {args.out} holds files already, which label maps '
                                    'of the same names would replace; name a new or empty '
                                    'folder')
                cfg.test_evaluator.update(output_dir=args.out)
            else:
                cfg.test_evaluator = [cfg.test_evaluator,
                                      dict(type='DumpResults', out_file_path=args.out)]

        drop_persistent_workers_without_workers(cfg, ['test_dataloader'])
        runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
        check_checkpoint_matches(bare_model(runner.model), args.checkpoint)
        run.started_with(runner)
        runner.test()


if __name__ == '__main__':
    main()
