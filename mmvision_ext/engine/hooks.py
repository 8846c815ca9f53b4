"""The NaN/Inf loss guard that ``ResumableRunner`` adds to every training run, and the
hook that refreshes Grafit's memory of embeddings before evaluation."""
import copy
import logging
import math

import torch
import torch.distributed as torch_dist
from mmengine.dist import is_distributed
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper

from mmvision_ext.errors import ConfigError, UserError
from mmvision_ext.registry import HOOKS


def _bare_model(runner):
    """The runner's model inside its DDP / FSDP wrapper."""
    return runner.model.module if is_model_wrapper(runner.model) else runner.model


class NonFiniteLossError(UserError):
    """Training produced a NaN or infinite loss."""


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Stops training at a NaN/Inf loss, before it reaches the weights, or skips such steps.

    The hook guards the optimizer wrapper's ``update_params``: when the loss of a step
    is not finite on any rank (one all-reduce of a flag per step), every rank still runs
    the backward pass (DDP expects it) but none applies the update. Then:

    - ``action='stop'``: training ends with one line naming the iteration, each loss
      term's value and, under fp16 AMP, the loss scale. The weights in memory and the
      checkpoints on disk are those of the last good step.
    - ``action='skip'``: training goes on; ``skipped_steps`` in the log counts them.
      The model's floating-point buffers (BatchNorm's running statistics), which the
      bad forward pass has already updated, are put back as they were before it.

    Args:
        action (str): ``'stop'`` (default) or ``'skip'``.
    """
    priority = 'HIGHEST'

    def __init__(self, action='stop'):
        if action not in ('stop', 'skip'):
            raise ConfigError(f"NonFiniteLossHook: action must be 'stop' or 'skip', got {action!r}")
        self.action = action
        self.skipped = 0
        self._bad_step = False

    def before_train(self, runner):
        model = _bare_model(runner)
        self._buffers = [b for b in model.buffers() if b.is_floating_point()] \
            if self.action == 'skip' else []
        self._saved_buffers = []
        wrapper = runner.optim_wrapper
        update_params = wrapper.update_params
        hook = self

        def guarded_update_params(loss, step_kwargs=None, zero_kwargs=None):
            bad = (~torch.isfinite(loss.detach())).any().float()
            if is_distributed():
                torch_dist.all_reduce(bad)
            if not bad.item():
                return update_params(loss, step_kwargs, zero_kwargs)
            hook._bad_step = True
            hook._loss_scale = (wrapper.loss_scaler.get_scale()
                                if getattr(wrapper, 'loss_scaler', None) is not None else None)
            wrapper.backward(wrapper.scale_loss(loss))  # as update_params, minus the step
            wrapper.zero_grad()

        wrapper.update_params = guarded_update_params

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self._saved_buffers = [b.clone() for b in self._buffers]

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if not self._bad_step:
            return
        self._bad_step = False
        with torch.no_grad():
            for buffer, saved in zip(self._buffers, self._saved_buffers):
                buffer.copy_(saved)
        terms = ', '.join(f'{k} = {v.item():.4g}' for k, v in (outputs or {}).items()
                          if torch.is_tensor(v) and 'loss' in k and not math.isfinite(v.item()))
        if self.action == 'skip':
            self.skipped += 1
            runner.message_hub.update_scalar('train/skipped_steps', self.skipped)
            print_log(f'iteration {runner.iter + 1}: non-finite loss ({terms}), step skipped '
                      f'({self.skipped} so far)', logger='current', level=logging.WARNING)
            return
        scale = f' at fp16 loss scale {self._loss_scale:g}' if self._loss_scale else ''
        last = runner.message_hub.get_info('last_ckpt')
        raise NonFiniteLossError(
            f'loss is not finite at iteration {runner.iter + 1} ({terms or "loss = nan"}){scale}; '
            f'the weights were not updated and the last good checkpoint is '
            f'{last or "none yet"}. Lower the learning rate or add gradient clipping, or skip '
            "such steps with --cfg-options non_finite_loss='skip'")


@HOOKS.register_module()
class GrafitMemoryHook(Hook):
    """Recomputes a ``Grafit`` model's memory of training embeddings with the weights
    being evaluated, before each validation and test (thesis section 2.3.1: the kNN
    classifier and the retrieval compare the queries with ``m_i = g(x_i)`` of the final
    weights, not the running averages of training).

    Args:
        dataloader (dict, optional): the dataloader of the memory. Default: the config's
            ``train_dataloader`` dataset with the ``test_dataloader``'s pipeline, batch
            size, workers and collate function, unshuffled.
    """
    priority = 'HIGH'

    def __init__(self, dataloader=None):
        self.dataloader_cfg = dataloader
        self._dataloader = None

    @staticmethod
    def memory_dataloader_cfg(cfg):
        """The training set with the test pipeline (from a runner's config)."""
        train = copy.deepcopy(cfg.train_dataloader)
        test = cfg.get('test_dataloader') or cfg.val_dataloader
        dataset = train['dataset']
        dataset['pipeline'] = copy.deepcopy(test['dataset']['pipeline'])
        memory = dict(batch_size=test['batch_size'], num_workers=test.get('num_workers', 0),
                      dataset=dataset, sampler=dict(type='DefaultSampler', shuffle=False))
        if 'collate_fn' in test:
            memory['collate_fn'] = test['collate_fn']
        return memory

    def _rebuild(self, runner):
        if self._dataloader is None:
            cfg = self.dataloader_cfg or self.memory_dataloader_cfg(runner.cfg)
            self._dataloader = runner.build_dataloader(cfg, seed=runner.seed)
        model = _bare_model(runner)
        model.rebuild_memory(self._dataloader)

    def before_train(self, runner):
        # One memory row per training image, indexed by the image's index: a set of
        # another size fails at the first step (larger) or only at validation (smaller).
        model = _bare_model(runner)
        size = len(runner.train_dataloader.dataset)
        if getattr(model, 'num_train', size) != size:
            raise ConfigError(f'the training set has {size} images, the memory of Grafit '
                              f'{model.num_train} (model.num_train): set '
                              f'--cfg-options model.num_train={size}')

    def before_val(self, runner):
        self._rebuild(runner)

    def before_test(self, runner):
        self._rebuild(runner)
