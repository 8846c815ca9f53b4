"""mmengine's training loops, resuming at the exact batch.

mmengine's ``IterBasedTrainLoop`` skips the batches a resumed run has trained on
by loading and discarding them (hours of data loading after a late crash, and it
draws from the augmentation streams); its ``EpochBasedTrainLoop`` restarts a
half-done epoch from its first batch. With a ``ResumableBatchSampler`` (which
``ResumableRunner`` gives every data loader) both loops start at the next batch
instead, without loading anything. With another batch sampler they behave as
mmengine's.
"""
from mmengine.runner import EpochBasedTrainLoop, IterBasedTrainLoop
from mmengine.runner.loops import _InfiniteDataloaderIterator

from mmvision_ext.engine.reproducibility import ResumableBatchSampler
from mmvision_ext.registry import LOOPS


class _Skipped:
    """An iterator whose first ``count`` items are ``None``, then ``iterator``'s: mmengine's
    ``IterBasedTrainLoop.run`` calls ``next`` once per trained batch to skip them, and
    here the sampler has skipped them already."""

    def __init__(self, iterator, count):
        self.iterator, self.count = iterator, count

    def __iter__(self):
        return self

    def __next__(self):
        if self.count:
            self.count -= 1
            return None
        return next(self.iterator)


@LOOPS.register_module()
class ResumableIterBasedTrainLoop(IterBasedTrainLoop):
    """``IterBasedTrainLoop`` (same arguments) that resumes at the next batch."""

    def run(self):
        batch_sampler = self.dataloader.batch_sampler
        if self._iter > 0 and isinstance(batch_sampler, ResumableBatchSampler):
            epoch, batch = 0, self._iter
            if not batch_sampler.infinite:  # mmengine restarts a finite loader each epoch
                epoch, batch = divmod(self._iter, len(self.dataloader))
                batch_sampler.sampler.set_epoch(epoch)
            batch_sampler.skip_next(batch)
            iterator = _InfiniteDataloaderIterator(self.dataloader)
            iterator._epoch = epoch
            self.dataloader_iterator = _Skipped(iterator, self._iter)
        return super().run()


@LOOPS.register_module()
class ResumableEpochBasedTrainLoop(EpochBasedTrainLoop):
    """``EpochBasedTrainLoop`` (same arguments) that resumes a half-done epoch at its
    next batch (a checkpoint saved every N iterations) instead of its first."""

    def run_epoch(self):
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        done = self._iter - self._epoch * len(self.dataloader)  # > 0 once, after resume
        if done > 0 and isinstance(self.dataloader.batch_sampler, ResumableBatchSampler):
            self.dataloader.batch_sampler.skip_next(done)
        else:
            done = 0
        for idx, data_batch in enumerate(self.dataloader, start=done):
            self.run_iter(idx, data_batch)
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1
