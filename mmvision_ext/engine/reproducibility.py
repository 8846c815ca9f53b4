"""Random streams that a resumed run continues exactly.

mmengine seeds a run once, at its start; on resume it seeds again, so every random
stream restarts: the data-loader workers' augmentations, drop-path masks, Mixup /
CutMix, and the samplers' position inside an epoch. Two things make a resumed run
continue bit for bit instead:

1. **Per-sample seeding.** Each training sample's augmentations draw from a seed
   computed from (run seed, rank, epoch, batch, slot in the batch), set just for
   that sample (``SeededDataset``). What a worker process has drawn before no
   longer matters, so neither the number of workers nor a restart changes a
   sample's augmentation, and a resumed run needs no worker state.
2. **Main-process states in the checkpoint.** Python's, NumPy's and torch's (CPU
   and every CUDA device) global generators, per rank, which drive drop-path,
   dropout and Mixup/CutMix (``SafeCheckpointHook`` saves and restores them).

``ResumableBatchSampler`` numbers the batches and skips the ones a resumed run
has already trained on without loading them (mmengine loads and discards them).
The data loader gets a generator of its own, so starting an iterator (at resume,
or for validation) draws nothing from torch's global generator.
"""
import ctypes
import os
import random
import signal
import sys

import numpy as np
import torch
from mmengine.dataset import InfiniteSampler
from mmengine.dist import get_rank
from torch.utils.data import DataLoader, Dataset, Sampler

from mmvision_ext.errors import UserError


# --- global generator states ---------------------------------------------------------
def get_random_state():
    """This process's global random states, as tensors and Python scalars only (a
    checkpoint holding them still loads with ``torch.load(weights_only=True)``)."""
    key, pos, has_gauss, gauss = np.random.get_state()[1:]
    state = dict(
        python=random.getstate(),
        numpy=dict(key=torch.from_numpy(key.astype(np.int64)), pos=int(pos),
                   has_gauss=int(has_gauss), cached_gaussian=float(gauss)),
        torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_random_state(state):
    """Restore what ``get_random_state`` returned."""
    version, internal, gauss = state['python']
    random.setstate((version, tuple(internal), gauss))
    np_state = state['numpy']
    np.random.set_state(('MT19937', np_state['key'].numpy().astype(np.uint32), np_state['pos'],
                         np_state['has_gauss'], np_state['cached_gaussian']))
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        if len(state['cuda']) != torch.cuda.device_count():
            raise UserError(f'the checkpoint holds the random states of {len(state["cuda"])} '
                            f'GPUs per process, this process sees {torch.cuda.device_count()}; '
                            'resume with the same devices visible')
        torch.cuda.set_rng_state_all(state['cuda'])


class _SeededScope:
    """Seed Python, NumPy and torch for one sample; give the caller its states back."""

    def __init__(self, words):
        seeds = np.random.SeedSequence(words).generate_state(4, dtype=np.uint32)
        self.seeds = [int(s) for s in seeds]

    def __enter__(self):
        self.saved = (random.getstate(), np.random.get_state(), torch.get_rng_state())
        random.seed(self.seeds[0] << 32 | self.seeds[1])
        np.random.seed(self.seeds[2])
        torch.default_generator.manual_seed(self.seeds[3])  # CPU only: CUDA's stays

    def __exit__(self, *exc):
        random.setstate(self.saved[0])
        np.random.set_state(self.saved[1])
        torch.set_rng_state(self.saved[2])


# --- data --------------------------------------------------------------------------
class SeededDataset(Dataset):
    """Runs each sample of ``dataset`` under its own seed.

    Items are requested as ``(epoch, batch, slot, index)`` by ``ResumableBatchSampler``;
    plain indices (an outside sampler) are served unseeded. Every other attribute is
    the wrapped dataset's.

    Args:
        dataset: the dataset to wrap (any map-style dataset).
        seed (int): the run's seed.
    """

    def __init__(self, dataset, seed):
        self.dataset = dataset
        self.seed = int(seed)
        self.rank = get_rank()

    def __len__(self):
        return len(self.dataset)

    def __getattr__(self, name):  # metainfo, get_data_info, pipeline, ...
        if name == 'dataset':  # not set yet (unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.dataset, name)

    def __getitem__(self, item):
        if not isinstance(item, tuple):
            return self.dataset[item]
        epoch, batch, slot, index = item
        with _SeededScope([self.seed, self.rank, epoch, batch, slot]):
            return self._load(index)

    def _load(self, index):
        try:
            return self.dataset[index]
        except (AssertionError, OSError) as e:
            # mmcv's loaders assert 'failed to load image: <path>'; PIL raises OSError.
            files = self._files_of(index)
            named = [f for f in files if f in str(e)]
            if isinstance(e, AssertionError) and not named:
                raise
            raise UserError(f'cannot read {" / ".join(named or files)} (sample {index} of '
                            f'{type(self.dataset).__name__}: {e}); replace the file or remove it '
                            'from the dataset') from e

    def _files_of(self, index):
        try:
            info = self.dataset.get_data_info(index)
        except Exception:  # noqa: BLE001  (no per-sample info: nothing to name)
            return []
        return [str(v) for k, v in info.items() if k.endswith('_path') and v]


class ResumableBatchSampler(Sampler):
    """Wraps a data loader's batch sampler: tags each index with its place in the run
    (for ``SeededDataset``) and can start an iteration past the batches already trained.

    Args:
        batch_sampler: the batch sampler to wrap; its ``sampler`` (mmengine's, mmdet's
            or mmpretrain's) keeps its epoch-seeded order.
    """

    def __init__(self, batch_sampler):
        self.batch_sampler = batch_sampler
        self.sampler = batch_sampler.sampler  # DistSamplerSeedHook sets its epoch
        self._skip = 0

    @property
    def infinite(self):
        return isinstance(self.sampler, InfiniteSampler)

    def __len__(self):
        return len(self.batch_sampler)

    def skip_next(self, num_batches):
        """Let the next iteration start at batch ``num_batches`` of its epoch."""
        self._skip = int(num_batches)

    def __iter__(self):
        skip, self._skip = self._skip, 0
        if self.infinite:  # its index stream is made once; restart it from its seed
            self.sampler.indices = self.sampler._indices_of_rank()
        epoch = getattr(self.sampler, 'epoch', 0)
        for batch, indices in enumerate(self.batch_sampler):
            if batch < skip:
                continue
            yield [(epoch, batch, slot, index) for slot, index in enumerate(indices)]


class _DieWithParent:
    """A data-loader ``worker_init_fn`` that first asks Linux to SIGKILL the worker when
    its parent dies, then calls the loader's own ``worker_init_fn``.

    A torch worker whose main process is SIGKILLed (preemption, the OOM killer) leaves
    its loop, but then waits forever at exit for its queue's feeder thread, which is
    blocked writing results nobody reads (pickled masks fill the pipe): the orphan keeps
    its memory and the job's output pipes open. ``PR_SET_PDEATHSIG`` ends it with its
    parent; Linux sends it when the thread that started the worker ends, which for
    mmengine's loops is the main thread. Elsewhere than on Linux only the loader's own
    function runs.
    """

    def __init__(self, worker_init_fn=None):
        self.worker_init_fn = worker_init_fn
        self.parent_pid = os.getpid()

    def __call__(self, worker_id):
        if sys.platform.startswith('linux'):
            PR_SET_PDEATHSIG = 1
            ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            if os.getppid() != self.parent_pid:  # it died before the call
                os.kill(os.getpid(), signal.SIGKILL)
        if self.worker_init_fn is not None:
            self.worker_init_fn(worker_id)


def make_resumable(dataloader, seed):
    """The same data loader, with per-sample seeds and a batch sampler that can skip."""
    if isinstance(dataloader.batch_sampler, ResumableBatchSampler) or \
            dataloader.batch_sampler is None:
        return dataloader
    kwargs = dict(
        num_workers=dataloader.num_workers, collate_fn=dataloader.collate_fn,
        pin_memory=dataloader.pin_memory, timeout=dataloader.timeout,
        worker_init_fn=(_DieWithParent(dataloader.worker_init_fn)
                        if dataloader.num_workers > 0 else dataloader.worker_init_fn),
        multiprocessing_context=dataloader.multiprocessing_context,
        persistent_workers=dataloader.persistent_workers and dataloader.num_workers > 0,
        pin_memory_device=dataloader.pin_memory_device,
        # Starting an iterator then draws its workers' base seed from here, not from
        # torch's global generator (whose state the checkpoint restores).
        generator=torch.Generator().manual_seed(int(seed)))
    if dataloader.num_workers > 0:
        kwargs['prefetch_factor'] = dataloader.prefetch_factor
    return DataLoader(SeededDataset(dataloader.dataset, seed),
                      batch_sampler=ResumableBatchSampler(dataloader.batch_sampler), **kwargs)
