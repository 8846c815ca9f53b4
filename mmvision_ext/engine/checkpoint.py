"""Crash-safe checkpoints that hold everything an exact resume needs.

mmengine writes a checkpoint in place, so a run killed mid-write (preemption,
out of memory, disk full) leaves a truncated newest file; its ``CheckpointHook``
also deletes the oldest kept checkpoint *before* writing the new one, so with
``max_keep_ckpts=1`` a kill at that moment leaves no good checkpoint at all. Here:

- ``AtomicLocalBackend`` writes to a temporary file in the same folder, syncs it
  and renames it into place: a checkpoint file is either complete or absent;
- ``SafeCheckpointHook`` writes the new checkpoint, then moves ``last_checkpoint``
  (atomically too), and only then deletes checkpoints past ``max_keep_ckpts``;
- ``SafeCheckpointHook`` also stores every rank's global random states in each
  checkpoint (``random_states``) and restores this rank's on resume (see
  ``mmvision_ext.engine.reproducibility``);
- ``find_resumable_checkpoint`` skips an unreadable newest checkpoint (one line
  says so) and resumes from the newest good one.
"""
import logging
import os
import os.path as osp
import re
import zipfile
from collections import deque

from mmengine.dist import all_gather_object, get_rank, get_world_size, is_distributed, \
    is_main_process
from mmengine.fileio import LocalBackend, register_backend
from mmengine.hooks import CheckpointHook
from mmengine.logging import print_log

from mmvision_ext.engine.reproducibility import get_random_state, set_random_state
from mmvision_ext.errors import UserError
from mmvision_ext.registry import HOOKS

ATOMIC_BACKEND = 'mmvx_atomic_local'


def atomic_write(data, path):
    """Write ``data`` (bytes or str) to ``path`` so that ``path`` is never partial."""
    folder = osp.dirname(osp.abspath(path))
    tmp = osp.join(folder, f'.{osp.basename(path)}.{os.getpid()}.tmp')
    try:
        with open(tmp, 'wb' if isinstance(data, bytes) else 'w') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        if osp.exists(tmp):
            os.remove(tmp)
        raise UserError(f'could not write {path}: {e.strerror or e} (the earlier checkpoints '
                        f'in {folder} are intact; free space or fix the permissions, then '
                        'resume with --resume)') from e


@register_backend(ATOMIC_BACKEND)
class AtomicLocalBackend(LocalBackend):
    """mmengine's local file backend whose ``put`` is an atomic write."""

    def put(self, obj, filepath):
        filepath = str(filepath)
        os.makedirs(osp.dirname(osp.abspath(filepath)), exist_ok=True)
        atomic_write(bytes(obj), filepath)


def checkpoint_problem(path):
    """Why ``path`` is not a complete checkpoint file, or None if it is one.

    Checks the zip container that ``torch.save`` writes, CRCs included (a truncated
    or damaged file fails), without unpickling anything."""
    if not osp.isfile(path):
        return 'no such file'
    if osp.getsize(path) == 0:
        return 'the file is empty'
    if not zipfile.is_zipfile(path):
        return 'not a PyTorch checkpoint (no zip archive as torch.save writes; truncated?)'
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            bad = zf.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        return f'unreadable ({e})'
    if bad is not None:
        return f'damaged (bad CRC in {bad})'
    if not any(n.endswith('/data.pkl') for n in names):
        return 'a zip archive, but not one written by torch.save'
    return None


def check_checkpoint_file(path, what='checkpoint'):
    """Raise a one-line ``UserError`` unless ``path`` is a complete checkpoint."""
    problem = checkpoint_problem(path)
    if problem == 'no such file':
        raise UserError(f'{what} not found: {path}')
    if problem:
        raise UserError(f'{path} is not a usable {what}: {problem}; expected a .pth file '
                        'written by tools/train.py (work_dirs/<config>/iter_N.pth or epoch_N.pth)')


_STEP = re.compile(r'^(?:iter|epoch)_(\d+)\.pth$')
_PARTIAL = re.compile(r'^\..+\.pth\.\d+\.tmp$')  # atomic_write's temporary files


def find_resumable_checkpoint(work_dir):
    """The newest complete checkpoint of ``work_dir``: the one ``last_checkpoint``
    names, else the highest ``iter_N.pth`` / ``epoch_N.pth`` that reads back. An
    unreadable candidate is reported in one log line and skipped."""
    candidates = []
    pointer = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(pointer):
        with open(pointer) as f:
            named = f.read().strip()
        if named:
            # A work dir moved or copied elsewhere still names its old place.
            local = osp.join(work_dir, osp.basename(named))
            candidates.append(local if osp.isfile(local) else named)
    if osp.isdir(work_dir):
        steps = [(int(m.group(1)), name) for name in os.listdir(work_dir)
                 if (m := _STEP.match(name))]
        candidates += [osp.join(work_dir, name) for _, name in sorted(steps, reverse=True)]
    seen = set()
    for path in candidates:
        if path in seen:
            continue
        seen.add(path)
        problem = checkpoint_problem(path)
        if problem is None:
            return path
        print_log(f'skipping checkpoint {path}: {problem}', logger='current',
                  level=logging.WARNING)
    return None


@HOOKS.register_module()
class SafeCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook`` whose checkpoints survive crashes and resume exactly.

    Same arguments and file names as ``CheckpointHook``. Local checkpoints are written
    atomically (unless ``backend_args`` names another backend); ``last_checkpoint``
    moves only after the new file is complete; checkpoints past ``max_keep_ckpts`` are
    deleted only after that, so the newest good one is always kept. Each checkpoint
    holds every rank's global random states (``random_states``, indexed by rank), which
    a resumed run restores; from another number of processes it resumes inexactly, with
    a warning.

    Args:
        *args, **kwargs: ``CheckpointHook``'s (interval, by_epoch, max_keep_ckpts,
            save_best, ...), with the same meaning.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # CheckpointHook keeps the keys it does not know and passes them to the runner's
        # save_checkpoint, which takes none of them: a misspelt key failed only at the
        # first save, after an interval of training, with nothing saved. Refused now, in
        # Python's words, which the tools turn into their unknown-key line.
        if self.args:
            raise TypeError('CheckpointHook.__init__() got an unexpected keyword argument '
                            f'{next(iter(self.args))!r}')
        self._random_states = None  # gathered from every rank before each save
        self._resumed_state = None

    def before_train(self, runner):
        super().before_train(runner)
        if self.backend_args is None and self.file_backend.name == 'LocalBackend':
            self.backend_args = dict(backend=ATOMIC_BACKEND)
            if is_main_process() and osp.isdir(self.out_dir):
                # What a run killed in the middle of a write left behind.
                for name in os.listdir(self.out_dir):
                    if _PARTIAL.match(name):
                        os.remove(osp.join(self.out_dir, name))
        # Not at load time: mmengine's resume may re-seed afterwards (a config seed that
        # differs from the checkpoint's), and this hook runs last: nothing between here
        # and the first training step draws from the global generators.
        if self._resumed_state is not None:
            set_random_state(self._resumed_state)
            self._resumed_state = None

    def _gather_random_states(self):
        # On every rank: mmengine saves (and calls before_save_checkpoint) on rank 0 only.
        state = get_random_state()
        self._random_states = all_gather_object(state) if is_distributed() else [state]

    def before_save_checkpoint(self, runner, checkpoint):
        if self._random_states is not None:
            checkpoint['random_states'] = self._random_states

    def after_load_checkpoint(self, runner, checkpoint):
        states = checkpoint.get('random_states')
        if not runner._resume or states is None:  # load_from: a new run, its own streams
            return
        if len(states) != get_world_size():
            print_log(f'the checkpoint holds the random states of {len(states)} processes, '
                      f'this run has {get_world_size()}: it resumes with fresh random '
                      'streams, not exactly', logger='current', level=logging.WARNING)
            return
        self._resumed_state = states[get_rank()]

    def _save_best_checkpoint(self, runner, metrics):
        self._gather_random_states()
        super()._save_best_checkpoint(runner, metrics)

    def _save_checkpoint_with_step(self, runner, step, meta):
        self._gather_random_states()
        stale = []
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids
                                            and self.keep_ckpt_ids[-1] == step):
            ids = list(self.keep_ckpt_ids) + [step]  # (mmengine's deque has a maxlen)
            stale = ids[:-self.max_keep_ckpts]
            self.keep_ckpt_ids = deque(ids[-self.max_keep_ckpts:], self.max_keep_ckpts)
            # Before saving, so that the checkpoint records what it keeps (as mmengine).
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))
        filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir, filename, self.file_client_args,
            save_optimizer=self.save_optimizer, save_param_scheduler=self.save_param_scheduler,
            meta=meta, by_epoch=self.by_epoch, backend_args=self.backend_args, **self.args)
        if not is_main_process():
            return
        atomic_write(self.last_ckpt, osp.join(runner.work_dir, 'last_checkpoint'))
        for old in stale:
            path = self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(old))
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):  # DeepSpeed writes folders
                self.file_backend.rmtree(path)
