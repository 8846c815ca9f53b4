"""Progress bars for the tools' console: one helper for loops of our own, one hook for
mmengine runs (training, validation and test), both on the main process only."""
import logging
import numbers
import re
import sys
import warnings

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from tqdm import tqdm

from mmvision_ext.registry import HOOKS


def progress_bar(iterable=None, desc='', total=None, unit='it', leave=True, initial=0,
                 log_interval=10):
    """A tqdm bar on stdout; in a log file (not a terminal) it writes a line at most
    every ``log_interval`` seconds."""
    return tqdm(iterable, desc=desc, total=total, unit=unit, leave=leave, initial=initial,
                file=sys.stdout, dynamic_ncols=True,
                mininterval=0.5 if sys.stdout.isatty() else log_interval)


def progress(iterable, desc, unit='it'):
    """``iterable`` behind a progress bar with ETA (a plain iterator on other ranks)."""
    if not is_main_process():
        return iterable
    return progress_bar(iterable, desc=desc, unit=unit)


def format_metrics(metrics):
    """``name value`` pairs of a metrics dict (numpy scalars too), 4 significant digits."""
    return ', '.join(f'{k} {float(v):.4g}' for k, v in metrics.items()
                     if isinstance(v, numbers.Real))


# Warnings of the stack that every run of a project config raises and that say nothing
# about the user's run: deprecation notices inside mmseg/mmengine for APIs that they
# call themselves, a notice that the (disabled) visualization hook is disabled, and the
# per-image notice that a 2-D prediction map gets its channel axis (SegTTAModel).
# They stay in --verbose runs; any other warning still shows.
KNOWN_WARNINGS = [
    (r'``build_loss`` would be deprecated soon', 'mmseg.models.builder'),
    (r'The draw is False, it means that the hook for visualization', 'mmseg.engine.hooks'),
    (r'`reduce_zero_label` will be deprecated', 'mmseg.datasets.transforms.loading'),
    (r'The shape of value will convert from torch\.Size\(\[\d+, \d+\]\) to '
     r'torch\.Size\(\[1, ', 'mmengine.structures.pixel_data'),
]
KNOWN_LOG_RECORDS = re.compile(
    r'The prefix is not set in metric class IoUMetric'
    r'|"FileClient" will be deprecated in future'
    r'|"HardDiskBackend" is the alias of "LocalBackend"')


class KnownRecordFilter(logging.Filter):
    """Drops mmengine's log records of ``KNOWN_LOG_RECORDS`` (the console only)."""

    def filter(self, record):
        return not KNOWN_LOG_RECORDS.search(record.getMessage())


def quiet_known_warnings():
    """Hide the ``KNOWN_WARNINGS`` in this process and the data-loader workers it forks."""
    for message, module in KNOWN_WARNINGS:
        warnings.filterwarnings('ignore', message=message, category=UserWarning,
                                module=re.escape(module))


@HOOKS.register_module()
class ConsoleProgressHook(Hook):
    """What a person watching a run needs, while the full log goes to the work dir's log
    file: a progress bar with ETA and the latest loss for training, one for each
    evaluation, the metrics of each evaluation, and where the outputs are.

    ``ResumableRunner`` adds it when the config sets ``console='progress'`` (what the
    tools do unless ``--verbose``), and then shows only warnings of mmengine's log.
    """
    priority = 'VERY_LOW'

    def __init__(self):
        self._bar = None
        self._eval_bar = None

    def _new_bar(self, total, desc, initial=0, leave=True):
        return progress_bar(total=total, initial=initial, desc=desc, leave=leave,
                            log_interval=30)

    def before_train(self, runner):
        if is_main_process():
            self._bar = self._new_bar(runner.max_iters, 'train', initial=runner.iter)

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if self._bar is None:
            return
        self._bar.update(1)
        if outputs and 'loss' in outputs and self._bar.n % 10 == 0:
            loss = outputs['loss']
            loss = loss.detach() if hasattr(loss, 'detach') else loss
            self._bar.set_postfix(loss=f'{float(loss):.4f}', refresh=False)

    def after_train(self, runner):
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        if is_main_process():
            print(f'checkpoints and logs: {runner.work_dir} (full log: {runner.log_dir})',
                  flush=True)

    def _before_eval(self, loader, desc):
        if is_main_process():
            self._eval_bar = self._new_bar(len(loader), desc, leave=False)

    def _after_eval_iter(self):
        if self._eval_bar is not None:
            self._eval_bar.update(1)

    def _after_eval(self, desc, metrics):
        if self._eval_bar is not None:
            self._eval_bar.close()
            self._eval_bar = None
        if is_main_process() and metrics:
            line = f'{desc}: {format_metrics(metrics)}'
            (self._bar.write if self._bar is not None else print)(line)

    def before_val_epoch(self, runner):
        self._before_eval(runner.val_dataloader, 'val')

    def after_val_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self._after_eval_iter()

    def after_val_epoch(self, runner, metrics=None):
        from mmengine.runner import EpochBasedTrainLoop
        by_epoch = isinstance(runner.train_loop, EpochBasedTrainLoop)
        self._after_eval(f'val (epoch {runner.epoch})' if by_epoch
                         else f'val (iteration {runner.iter})', metrics)

    def before_test_epoch(self, runner):
        self._before_eval(runner.test_dataloader, 'test')

    def after_test_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self._after_eval_iter()

    def after_test_epoch(self, runner, metrics=None):
        self._after_eval('test', metrics)
        if is_main_process():
            print(f'metrics and log: {runner.log_dir}', flush=True)
