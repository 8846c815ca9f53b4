"""Train a model of any task of the project (segmentation, detection, classification).

    python tools/train.py configs/upernet_patchconvnet_b60.py
    bash tools/dist_train.sh configs/upernet_patchconvnet_b60.py 8

Arguments and environment follow mmseg's and mmdet's tools/train.py.
"""
import argparse
import logging
import os.path as osp

from mmengine.logging import print_log
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import mmvision_ext  # noqa: F401  (compatibility fixes and registration)
from mmvision_ext.engine.checkpoint import check_checkpoint_file
from mmvision_ext.errors import UserError
from mmvision_ext.runner_utils import (
    add_config_and_launcher_args, check_crop_size, check_datasets, check_load_from,
    check_metric_keys, check_num_classes, check_pretrained, check_teacher,
    check_work_dir_is_free, drop_persistent_workers_without_workers, load_config, output_folder,
    set_launcher_env, user_errors
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='config file or config name')
    parser.add_argument('--work-dir', type=output_folder, help='where logs and checkpoints go '
                        '(default: work_dirs/<config name>)')
    parser.add_argument('--resume', nargs='?', type=str, const='auto',
                        help='resume from CHECKPOINT, or without a value from the newest '
                             'complete checkpoint in the work dir')
    parser.add_argument('--amp', action='store_true',
                        help='mixed precision: bfloat16 autocast (CPU, Ampere+ GPUs), else '
                             'float16 with loss scaling')
    parser.add_argument('--fsdp', action='store_true',
                        help='fully sharded data parallel (torch FSDP2) through MMEngine\'s '
                             'FlexibleRunner: parameters, gradients and optimizer states '
                             'split over the processes, for models too large to replicate')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the lr with the total batch size (auto_scale_lr)')
    add_config_and_launcher_args(parser)
    parser.add_argument('--verbose', action='store_true',
                        help="mmengine's full log on the console too (by default: progress "
                             'bars, metrics and warnings; the log file has everything)')
    args = parser.parse_args(argv)
    set_launcher_env(args.local_rank)
    return args


def main(argv=None):
    args = parse_args(argv)
    with user_errors(distributed=args.launcher != 'none') as run:
        if args.fsdp and args.launcher == 'none':
            raise UserError('--fsdp shards over processes: launch with tools/dist_train.sh '
                            '(or torchrun ... --launcher pytorch)')
        cfg = run.cfg = load_config(args.config, args.cfg_options, args.work_dir)
        run.watch(cfg.work_dir)
        check_pretrained(cfg)
        check_teacher(cfg)
        check_crop_size(cfg)
        loaders = ['train_dataloader'] + (['val_dataloader'] if cfg.get('val_cfg') is not None
                                          else [])
        check_datasets(cfg, loaders)
        check_metric_keys(cfg, [loader.replace('_dataloader', '_evaluator') for loader in loaders])
        check_num_classes(cfg)
        cfg.launcher = args.launcher
        if not args.verbose:
            cfg.console = 'progress'

        if args.amp:
            if cfg.optim_wrapper.get('type', 'OptimWrapper') in (
                    'AmpOptimWrapper', 'MixedPrecisionOptimWrapper'):
                print_log('AMP is already on in the config', logger='current',
                          level=logging.WARNING)
            else:  # bfloat16 where the device has it, float16 with loss scaling elsewhere
                cfg.optim_wrapper.type = 'MixedPrecisionOptimWrapper'
        if args.auto_scale_lr:
            if 'auto_scale_lr' not in cfg or 'base_batch_size' not in cfg.auto_scale_lr:
                raise UserError('the config has no auto_scale_lr.base_batch_size to scale from')
            cfg.auto_scale_lr.enable = True
        if args.resume == 'auto':
            cfg.resume, cfg.load_from = True, None
        elif args.resume is not None:
            check_checkpoint_file(args.resume, 'checkpoint to resume from')
            cfg.resume, cfg.load_from = True, osp.abspath(args.resume)
        check_load_from(cfg)  # after --resume, which replaces load_from
        check_work_dir_is_free(cfg)

        if args.fsdp:
            cfg.runner_type = 'FlexibleRunner'
            cfg.strategy = dict(type='FullyShardStrategy', **cfg.get('strategy', {}))
        drop_persistent_workers_without_workers(cfg, loaders)
        runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
        run.started_with(runner)
        runner.train()


if __name__ == '__main__':
    main()
