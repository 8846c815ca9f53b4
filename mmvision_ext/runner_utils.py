"""What tools/train.py and tools/test.py share: config loading with mmseg's / mmdet's
command-line conventions, and checks that turn missing data, missing pretrained
weights or mismatched checkpoints into one clear message before any work starts."""
import argparse
import os
import os.path as osp
import shutil
import sys
import time
from pathlib import Path

import torch
from mmengine.config import Config

from mmvision_ext.engine.checkpoint import check_checkpoint_file
from mmvision_ext.engine.runner import without_idle_persistent_workers
from mmvision_ext.configs import find_config
from mmvision_ext.errors import (
    TRACEBACK_ENV, UserError, accepted_keys, exit_on_user_error, registered_class
)
from mmvision_ext.registry import MODELS


DATASET_HINTS = {
    'ADE20KDataset': (
        'Get ADEChallengeData2016.zip (MIT Scene Parsing benchmark) and unzip it into '
        'data/ade/, so that data/ade/ADEChallengeData2016/images/training exists, or point the '
        'config at your copy with --cfg-options train_dataloader.dataset.data_root=... '
        '(val_dataloader/test_dataloader likewise). A small synthetic set in the same layout: '
        'python tools/make_demo_data.py data/synthetic_ade20k --task ade20k'),
    'CocoDataset': (
        'Put COCO 2017 under data/coco/ (annotations/instances_{train,val}2017.json, '
        'train2017/, val2017/), or set --cfg-options train_dataloader.dataset.data_root=... '
        '(val/test likewise, and val_evaluator.ann_file, test_evaluator.ann_file). A small '
        'synthetic set in the same layout: '
        'python tools/make_demo_data.py data/synthetic_coco --task coco'),
    'ImageNet': (
        'Put ImageNet-1k under data/imagenet/ as train/<class>/*.JPEG and val/<class>/*.JPEG '
        '(optionally meta/{train,val}.txt). A small synthetic set in the same layout: '
        'python tools/make_demo_data.py data/synthetic_imagenet --task imagenet'),
    'CIFAR100TwoLevel': (
        'Extract cifar-100-python.tar.gz (the python version, '
        'https://www.cs.toronto.edu/~kriz/cifar.html) into data/cifar100/, or set '
        '--cfg-options train_dataloader.dataset.data_root=... (val/test likewise). A small '
        'synthetic set in the same format: '
        'python tools/make_demo_data.py data/synthetic_two_level --task two_level'),
    'CIFAR10Python': (
        'Extract cifar-10-python.tar.gz (the python version, '
        'https://www.cs.toronto.edu/~kriz/cifar.html) into data/cifar10/, or set '
        '--cfg-options train_dataloader.dataset.data_root=... (val/test likewise). A small '
        'synthetic set in the same format: '
        'python tools/make_demo_data.py data/synthetic_cifar10 --task cifar10'),
    'INaturalist': (
        'Put the iNaturalist release (train_val2018/ with train2018.json and val2018.json, '
        'or 2019\'s) under data/inat2018/ (data/inat2019/), or set --cfg-options '
        'train_dataloader.dataset.data_root=... (val/test likewise).'),
}
DATASET_HINTS['CIFAR100Python'] = DATASET_HINTS['CIFAR100TwoLevel']  # the same files
# Where a dataset type keeps a split, relative to data_root (default: a folder per split).
SPLIT_PATHS = {'CIFAR100TwoLevel': 'cifar-100-python/{split}',
               'CIFAR100Python': 'cifar-100-python/{split}',  # a CIFAR100TwoLevel
               'CIFAR10Python': 'cifar-10-batches-py/batches.meta',
               'Flowers102': 'setid.mat', 'Food101': 'meta/{split}.txt', 'StanfordCars': ''}


def load_config(path, cfg_options=None, work_dir=None):
    """The config of a path or a config name, with ``cfg_options`` merged and
    ``work_dir`` set (default ``./work_dirs/<config name>``)."""
    path = str(find_config(path))
    cfg = Config.fromfile(path)
    for key, value in (cfg_options or {}).items():
        if key.startswith('model.data_preprocessor.') and cfg.get('data_preprocessor') \
                and not cfg.get('model', {}).get('data_preprocessor'):
            # The runner gives the model the config's data_preprocessor unless the model
            # has one: a new model.data_preprocessor would replace all of it.
            raise UserError(
                f'--cfg-options {key}: this config sets the data preprocessor as '
                f'data_preprocessor (mean, std, Mixup ...), which a model.data_preprocessor '
                f'would replace whole; set {key[len("model."):]} instead')
        try:
            cfg.merge_from_dict({key: value})
        except (TypeError, KeyError) as exc:
            raise UserError(_option_conflict(cfg, key, exc)) from None
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(path))[0])
    return cfg


def _option_conflict(cfg, key, exc):
    """Why ``--cfg-options key=...`` cannot be merged: mmengine's message speaks of child
    and base configs; name the setting in the way instead."""
    node, parts = cfg.to_dict(), key.split('.')
    for depth, part in enumerate(parts):
        if isinstance(node, (list, tuple)):
            listed = '.'.join(parts[:depth])
            if not part.isdigit():
                example = '.'.join(parts[:depth] + ['0'] + parts[depth:])
                return (f'--cfg-options {key}: {listed} is a list of {len(node)} entries; '
                        f'say which, from 0 (e.g. {example})')
            if int(part) >= len(node):
                return (f'--cfg-options {key}: {listed} is a list of {len(node)} entries; '
                        f'it has no entry {part}')
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            break
        if depth + 1 < len(parts) and not isinstance(node, (dict, list, tuple)):
            return (f'--cfg-options {key}: {".".join(parts[:depth + 1])} is {node!r} in this '
                    f'config, not a dict of settings, so it has no {parts[depth + 1]!r}')
    return f'--cfg-options {key}: {exc}'


def _walk(node, path=''):
    """Yield (dotted path, dict) for every dict in a nested config."""
    if isinstance(node, dict):
        yield path, node
        for k, v in node.items():
            yield from _walk(v, f'{path}.{k}' if path else str(k))
    elif isinstance(node, (list, tuple)):
        for i, v in enumerate(node):
            yield from _walk(v, f'{path}[{i}]')


def check_pretrained(cfg):
    """Every local ``init_cfg=dict(type='Pretrained', checkpoint=...)`` file exists."""
    for path, node in _walk(cfg.get('model', {}), 'model'):
        init = node.get('init_cfg') if isinstance(node, dict) else None
        for item in init if isinstance(init, list) else [init]:
            if not isinstance(item, dict) or item.get('type') != 'Pretrained':
                continue
            ckpt = str(item.get('checkpoint', ''))
            if '://' in ckpt or osp.isfile(ckpt):
                continue
            raise UserError(
                f'pretrained checkpoint not found: {ckpt} ({path}.init_cfg); convert the '
                'official ImageNet weights once with `python tools/model_converters/'
                f'official2mmvx.py OFFICIAL.pth {ckpt}` (MMVX_CHECKPOINTS=/your/dir keeps '
                'converted files elsewhere), or train from scratch on purpose with '
                f'--cfg-options {path}.init_cfg=None')


def check_load_from(cfg):
    """The ``load_from`` checkpoint (fine-tuning configs start from one) exists."""
    ckpt = cfg.get('load_from')
    if ckpt and '://' not in str(ckpt) and not osp.isfile(str(ckpt)) and not cfg.get('resume'):
        raise UserError(
            f'checkpoint to fine-tune from not found: {ckpt} (load_from); train the 224 model '
            'first, or convert the official ImageNet weights once with `python '
            f'tools/model_converters/official2mmvx.py OFFICIAL.pth {ckpt}`')


def check_work_dir_is_free(cfg):
    """A new run (not ``--resume``) would write its checkpoints over those an earlier run
    left in the work dir, and point ``last_checkpoint`` at its own: refused."""
    if cfg.get('resume'):
        return
    work_dir = cfg.work_dir
    names = sorted(f for f in os.listdir(work_dir) if f.endswith('.pth')) \
        if osp.isdir(work_dir) else []
    if names or osp.isfile(osp.join(work_dir, 'last_checkpoint')):
        shown = ', '.join(names[:3]) + (', ...' if len(names) > 3 else '') or 'last_checkpoint'
        raise UserError(f'{work_dir} holds the checkpoints of an earlier run ({shown}); '
                        'continue it with --resume, or train into another --work-dir')


def check_teacher(cfg):
    """A distillation config's teacher config and checkpoint exist."""
    model = cfg.get('model', {})
    if model.get('type') != 'DistilledImageClassifier':
        return
    teacher = model.get('teacher') or {}
    for what in ('config', 'checkpoint'):
        path = str(teacher.get(what, ''))
        if not osp.isfile(path):
            raise UserError(
                f'distillation teacher {what} not found: {path} (model.teacher.{what}); see '
                'docs/recipes.md (distillation) for the RegNetY-16GF teacher, or set '
                'another one with --cfg-options model.teacher.config=... '
                'model.teacher.checkpoint=...')


def without_teacher(model_cfg):
    """The student of a distillation config as a plain classifier: evaluation and
    inference need no teacher (the distilled head fuses its two tokens)."""
    if model_cfg.get('type') != 'DistilledImageClassifier':
        return model_cfg
    model_cfg = model_cfg.copy()
    for key in ('teacher', 'distillation', 'alpha', 'tau'):
        model_cfg.pop(key, None)
    model_cfg['type'] = 'ImageClassifier'
    return model_cfg


def _dataset_dirs(ds):
    """(description, path) pairs that a dataset config needs on disk."""
    root = ds.get('data_root', '') or ''
    needed = []
    ann = ds.get('ann_file')
    if ann:
        needed.append(('annotation file', osp.join(root, ann)))
    prefix = ds.get('data_prefix', {})
    if isinstance(prefix, str):
        prefix = {'img': prefix}
    for key, value in (prefix or {}).items():
        if value:
            needed.append((f'{key} folder', osp.join(root, value)))
    split = ds.get('split')
    if split and not prefix:
        layout = SPLIT_PATHS.get(ds.get('type'), '{split}')
        needed.append((f'{split} split', osp.join(root, layout.format(split=split))))
    if not needed and root:
        needed.append(('data root', root))
    return needed


def check_datasets(cfg, loaders):
    """The data of each named dataloader is where its config says, in batches of at least one."""
    for name in loaders:
        loader = cfg.get(name)
        if not loader:
            continue
        batch_size = loader.get('batch_size')
        if isinstance(batch_size, int) and batch_size < 1:
            raise UserError(f'{name}.batch_size must be at least 1, got {batch_size}')
        stack = [loader.get('dataset', {})]
        while stack:
            ds = stack.pop()
            if 'dataset' in ds:  # RepeatDataset and other wrappers
                stack.append(ds['dataset'])
                continue
            if 'datasets' in ds:
                stack.extend(ds['datasets'])
                continue
            for what, path in _dataset_dirs(ds):
                if not osp.exists(path):
                    kind = ds.get('type', 'dataset')
                    raise UserError(
                        f'{kind} {what} not found: {osp.abspath(path)} ({name}.dataset). '
                        + DATASET_HINTS.get(kind, 'Fix the dataset paths in the config.'))
        # The COCO metric reads the annotations again, from its own ann_file: found
        # missing only after training, at the first validation, if not checked here.
        evaluator = name.replace('_dataloader', '_evaluator')
        for metric in _metrics(cfg, evaluator):
            ann = metric.get('ann_file')
            if ann and '://' not in str(ann) and not osp.isfile(ann):
                raise UserError(
                    f'{metric.get("type", "metric")} annotation file not found: '
                    f'{osp.abspath(ann)} ({evaluator}.ann_file); set --cfg-options '
                    f'{evaluator}.ann_file=... to the annotations of {name}.dataset')


def _metrics(cfg, evaluator):
    """The metric dicts of an evaluator setting: one dict, a list of them, an evaluator
    (``dict(type='Evaluator', metrics=...)``) or none."""
    metrics = cfg.get(evaluator) or []
    if isinstance(metrics, dict) and 'metrics' in metrics:
        metrics = metrics['metrics'] or []
    return metrics if isinstance(metrics, (list, tuple)) else [metrics]


def check_metric_keys(cfg, evaluators):
    """Every key of the evaluators' metrics is an argument of the metric (or of the
    classes it hands its keyword arguments to). mmseg's metrics take ``**kwargs`` and
    drop them, so a misspelt key (``iou_metric``) would leave the default in use without
    a word. Refused in Python's words, which the tools turn into their unknown-key line."""
    for name in evaluators:
        for metric in _metrics(cfg, name):
            cls = registered_class(metric.get('type'),
                                   metric.get('_scope_', cfg.get('default_scope')))
            if cls is None:
                continue
            valid = accepted_keys(cls, 'BaseMetric') | {'type', '_scope_'}
            for key in metric:
                if key not in valid:
                    raise TypeError(f'{cls.__name__}.__init__() got an unexpected keyword '
                                    f'argument {key!r}')


def check_num_classes(cfg):
    """A classifier's head has as many classes as the targets its data preprocessor's
    Mixup / CutMix make (vectors of ``num_classes`` entries)."""
    model = cfg.get('model') or {}
    where = 'model.data_preprocessor' if model.get('data_preprocessor') else 'data_preprocessor'
    head = model.get('head') or {}
    preprocessor = model.get('data_preprocessor') or cfg.get('data_preprocessor') or {}
    if not (preprocessor.get('mixup') or preprocessor.get('batch_augments')):
        return  # labels stay class indices
    classes, targets = head.get('num_classes'), preprocessor.get('num_classes')
    if isinstance(classes, int) and isinstance(targets, int) and classes != targets:
        raise UserError(f'model.head.num_classes is {classes} but {where}.num_classes is '
                        f'{targets}, the length of the targets it makes; set both, e.g. '
                        f'--cfg-options model.head.num_classes={classes} '
                        f'{where}.num_classes={classes}')


def drop_persistent_workers_without_workers(cfg, loaders):
    """``without_idle_persistent_workers`` for each named loader of ``cfg``, for runners
    other than ``ResumableRunner``, which applies it itself."""
    for name in loaders:
        if cfg.get(name):
            without_idle_persistent_workers(cfg[name])


def backbone_patch_size(cfg):
    """Patch size of the config's backbone (None when it is not one of ours)."""
    backbone = cfg.get('model', {}).get('backbone')
    if not isinstance(backbone, dict):
        return None
    cls = MODELS.get(backbone.get('type', ''))
    if cls is None or not hasattr(cls, 'get_arch'):
        return None
    return cls.get_arch(backbone.get('arch'))['patch_size']


def check_crop_size(cfg):
    """Training crops of a segmentation config are whole numbers of patches."""
    size = cfg.get('model', {}).get('data_preprocessor', {}).get('size')
    patch = backbone_patch_size(cfg)
    if size is None or patch is None:
        return
    if size[0] % patch or size[1] % patch:
        raise UserError(
            f'crop size {tuple(size)} is not divisible by the backbone patch size {patch}; '
            f'use e.g. {tuple(patch * round(s / patch) for s in size)} '
            '(model.data_preprocessor.size and the RandomCrop crop_size)')


def check_checkpoint_matches(model, checkpoint):
    """The checkpoint is one and its tensors fit the model (e.g. the same number of classes)."""
    check_checkpoint_file(checkpoint)
    from mmvision_ext.compat import load_from_local
    check_checkpoint_fits(model, load_from_local(checkpoint, map_location='cpu'), checkpoint)


def check_checkpoint_fits(model, ckpt, name):
    """A loaded checkpoint ``ckpt`` (file ``name``) fits ``model``: it holds every tensor of
    the model, with the model's shapes (extra tensors, such as a teacher's, are fine)."""
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else {}
    own = {k: v.shape for k, v in model.state_dict().items()}
    state = {k[len('module.'):] if k.startswith('module.') else k: v for k, v in state.items()}
    wrong = [(k, tuple(v.shape), tuple(own[k])) for k, v in state.items()
             if k in own and torch.is_tensor(v) and tuple(v.shape) != tuple(own[k])]
    if wrong:
        shapes = '; '.join(f'{k}: checkpoint {a}, model {b}' for k, a, b in wrong[:4])
        classifiers = tuple(f'{layer}.{p}' for layer in ('conv_seg', 'fc_cls', 'head')
                            for p in ('weight', 'bias'))
        if all(k.endswith(classifiers) and a[0] != b[0] and a[1:] == b[1:]
               for k, a, b in wrong):
            hint = (' (the checkpoint was trained for another number of classes than the '
                    'config sets: num_classes)')
        else:
            hint = ' (a checkpoint of another model or variant: layer widths differ)'
        raise UserError(f'checkpoint {name} does not fit the model{hint}: {shapes}')
    if not set(state) & set(own):
        raise UserError(f'checkpoint {name} shares no parameter names with the model; '
                        'is it for this config (or still in the official layout? convert it '
                        'with tools/model_converters/official2mmvx.py)?')
    missing = sorted(set(own) - set(state))
    if missing:
        raise UserError(f'checkpoint {name} lacks {len(missing)} of the model\'s '
                        f'{len(own)} tensors ({", ".join(missing[:3])}, ...): is it for this '
                        'config?')


def add_flip_tta(cfg):
    """Classification --tta, as mmpretrain's tools/test.py: the mean of the class scores of
    the image and its mirror, through the config's own test pipeline."""
    if 'tta_model' not in cfg:
        cfg.tta_model = dict(type='AverageClsScoreTTA')
    if 'tta_pipeline' not in cfg:
        pipeline = list(cfg.test_dataloader.dataset.pipeline)
        flips = [dict(type='RandomFlip', prob=1.), dict(type='RandomFlip', prob=0.)]
        cfg.tta_pipeline = pipeline[:-1] + [
            dict(type='TestTimeAug', transforms=[flips, [pipeline[-1]]])]


def task_of(cfg):
    return {'mmseg': 'seg', 'mmdet': 'det', 'mmpretrain': 'cls'}.get(cfg.get('default_scope'))


# --- command-line values checked before any work ---------------------------------------
def output_path_problem(path, folder=False, suffixes=()):
    """What is wrong with writing ``path`` (a file, or a folder if ``folder``), or None:
    a folder where a file is wanted or the reverse, another file type than ``suffixes``,
    or a file on the way to it. Whether it may replace an existing one is the tool's
    business."""
    path = Path(path)
    if folder and path.exists() and not path.is_dir():
        return f'{path} is a file; name a folder'
    if not folder and path.is_dir():
        return f'{path} is a folder; name a file'
    if suffixes and path.suffix.lower() not in suffixes:
        return f'{path}: name a file ending in {", ".join(suffixes)}'
    for parent in path.absolute().parents:
        if parent.exists():
            return None if parent.is_dir() else f'{path}: {parent} is a file, not a folder'
    return None


def _argparse_type(check, name):
    def parse(text):
        problem = check(text)
        if problem:
            raise argparse.ArgumentTypeError(problem)
        return text
    parse.__name__ = name
    return parse


def output_file(*suffixes):
    """argparse type: a file to write, with one of ``suffixes`` (e.g. '.png')."""
    return _argparse_type(lambda text: output_path_problem(text, suffixes=suffixes), 'file')


def figure_file(text):
    """argparse type: a figure to write, in a format matplotlib's ``savefig`` writes (told
    by the file's suffix)."""
    from matplotlib.backend_bases import FigureCanvasBase
    common = ('png', 'pdf', 'svg')
    formats = sorted(FigureCanvasBase.get_supported_filetypes(),
                     key=lambda fmt: (common.index(fmt) if fmt in common else 3, fmt))
    return output_file(*(f'.{fmt}' for fmt in formats))(text)


output_folder = _argparse_type(lambda text: output_path_problem(text, folder=True), 'folder')
output_folder.__doc__ = 'argparse type: a folder to create or write into.'


def positive_int(text):
    """argparse type: an integer of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f'must be at least 1, got {value}')
    return value


def torch_device(text):
    """argparse type: a device of this machine the tools run on (cpu, cuda, cuda:N)."""
    try:
        device = torch.device(text)
    except RuntimeError:
        raise argparse.ArgumentTypeError(f'{text!r} is not a device; use cpu or cuda[:N]') \
            from None
    if device.type not in ('cpu', 'cuda'):
        raise argparse.ArgumentTypeError(f'{text!r}: the tools run on cpu or cuda[:N]')
    if device.type == 'cuda' and not torch.cuda.is_available():
        raise argparse.ArgumentTypeError(f'{text!r}: torch sees no GPU here; use cpu')
    return text


def add_cfg_options_arg(parser):
    """--cfg-options key=value ..., as mmseg's and mmdet's tools take it."""
    from mmengine.config import DictAction

    class CfgOptions(DictAction):
        # mmengine's action, with a pair lacking '=' one argparse error, not a traceback.
        def __call__(self, parser, namespace, values, option_string=None):
            for value in values:
                if '=' not in value:
                    parser.error(f'{option_string} takes key=value pairs, got {value!r} '
                                 '(e.g. train_cfg.max_iters=1000)')
            super().__call__(parser, namespace, values, option_string)

    parser.add_argument('--cfg-options', nargs='+', action=CfgOptions, metavar='KEY=VALUE',
                        help='override config settings (as in mmseg/mmdet)')


def add_config_and_launcher_args(parser):
    """--cfg-options, --launcher and --local_rank, as mmseg's and mmdet's tools take them."""
    add_cfg_options_arg(parser)
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def set_launcher_env(local_rank):
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(local_rank)


def _destroy_process_group():
    # Destroyed here rather than by the interpreter's exit, where its threads can abort
    # a process whose work is done ("terminate called without an active exception").
    import torch.distributed as dist
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def _first_process_of_node():
    """False in the second and later processes of a node in a distributed launch
    (torchrun or srun)."""
    local_rank = os.environ.get('LOCAL_RANK', os.environ.get('SLURM_LOCALID', '0'))
    world = os.environ.get('WORLD_SIZE', os.environ.get('SLURM_NTASKS', '1'))
    return local_rank == '0' or world == '1'


class user_errors:
    """Context of a tool's work: a user mistake ends the process with one ``error:`` line
    (``mmvision_ext.errors``). If it happens before ``started`` is set, what the run
    had created in ``work_dir`` (mmengine's timestamped log folder) is removed again, so
    a refused command leaves the work dir as it found it. In a ``distributed`` launch, a
    mistake found before the runner is built (in the config or its files, the same in
    every process) is told by the first process of each node; the others wait for the
    launcher to stop them (``first_process_wait_s``, then they tell it too). A
    distributed run that ends without error destroys its process group.

    Set ``cfg`` once the config is loaded: unknown config keys are then named."""
    first_process_wait_s = 60

    def __init__(self, distributed=False):
        self.distributed = distributed
        self.cfg = None
        self.runner_built = False
        self.started = False
        self._work_dir = None
        self._before = None

    def started_with(self, runner):
        """Note that the runner is built, and count the run as started at its first
        training or test iteration."""
        from mmengine.hooks import Hook

        self.runner_built = True
        context = self

        class MarkStarted(Hook):
            priority = 'HIGHEST'

            def before_train_iter(self, runner, batch_idx, data_batch=None):
                context.started = True

            before_test_iter = before_train_iter

        runner.register_hook(MarkStarted())

    def watch(self, work_dir):
        """Remember what ``work_dir`` holds now."""
        self._work_dir = osp.abspath(work_dir)
        self._before = set(os.listdir(self._work_dir)) if osp.isdir(self._work_dir) else None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc is None:
            _destroy_process_group()
            return False
        if isinstance(exc, (SystemExit, KeyboardInterrupt)):
            return False
        if self._work_dir and not self.started and osp.isdir(self._work_dir) \
                and self._is_user_error(exc):
            for name in set(os.listdir(self._work_dir)) - (self._before or set()):
                path = osp.join(self._work_dir, name)
                shutil.rmtree(path) if osp.isdir(path) else os.remove(path)
            if self._before is None and not os.listdir(self._work_dir):
                os.rmdir(self._work_dir)
        if self.distributed and not (self.runner_built or _first_process_of_node()
                                     or os.environ.get(TRACEBACK_ENV)) \
                and self._is_user_error(exc):
            # Found in the config or its files, before the runner: the same in every
            # process, said once by the node's first. This one waits for it to say it and
            # fail, whereupon the launcher stops the others: exiting now could have the
            # launcher stop the first before it has said anything. Said here after all if
            # the first does not fail.
            time.sleep(self.first_process_wait_s)
        exit_on_user_error(exc, self.cfg)
        return False

    def _is_user_error(self, exc):
        from mmvision_ext.errors import user_error_message
        return user_error_message(exc, self.cfg) is not None
