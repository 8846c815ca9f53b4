"""Fully sharded data parallel training with torch's FSDP2 (``fully_shard``), as a
strategy of MMEngine's ``FlexibleRunner``.

MMEngine 0.10.7's ``FSDPStrategy`` wraps torch's first FSDP API, which refuses to run
without an accelerator ("FSDP needs a non-CPU accelerator device"); FSDP2 shards each parameter as a DTensor, runs on GPUs (NCCL) and on CPUs
(gloo), keeps parameter names, and leaves the model its own class (``train_step`` and
``val_step`` are the model's). Each block of the backbone is one unit (gathered for its
forward and backward, then freed), the rest of the model the root unit.

Checkpoints hold the full, unsharded state (gathered by every rank, written by rank 0)
in MMEngine's format, so ``tools/test.py`` and a single-device run read them and a
sharded run resumes from them on any number of processes.
"""
import re
from typing import Callable, Optional, Sequence

import torch
import torch.nn as nn
from mmengine._strategy import DDPStrategy
from mmengine.device import get_device
from mmengine.dist import get_rank
from mmengine.registry import STRATEGIES

from mmvision_ext.errors import ConfigError


def _fsdp():
    from torch.distributed.checkpoint import state_dict as dcp
    from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard
    return fully_shard, MixedPrecisionPolicy, dcp


@STRATEGIES.register_module()
class FullyShardStrategy(DDPStrategy):
    """Shard parameters, gradients and optimizer states over the ranks (FSDP2).

    Args:
        shard_units (Sequence[str]): submodule paths whose children are sharded one by
            one (each a unit gathered only for its own forward and backward). Default:
            ``('backbone.blocks',)``, the blocks of every backbone of the project.
        reshard_after_forward (bool): free gathered parameters after each forward
            (ZeRO-3); ``False`` keeps them until the backward (ZeRO-2-like, more memory,
            less communication). Default: True.
        param_dtype (str, optional): dtype of the gathered parameters for compute, e.g.
            ``'bfloat16'``; gradients are reduced in ``reduce_dtype``. Default: None
            (the parameters' dtype).
        reduce_dtype (str, optional): dtype of the gradient reduction. Default: None.
        **kwargs: ``DDPStrategy`` arguments (``sync_bn``, ...).
    """

    def __init__(self, *, shard_units: Sequence[str] = ('backbone.blocks',),
                 reshard_after_forward: bool = True, param_dtype: Optional[str] = None,
                 reduce_dtype: Optional[str] = None, **kwargs):
        super().__init__(**kwargs)
        self.shard_units = tuple(shard_units)
        self.reshard_after_forward = reshard_after_forward
        self.param_dtype = param_dtype
        self.reduce_dtype = reduce_dtype

    def _wrap_model(self, model: nn.Module) -> nn.Module:
        fully_shard, MixedPrecisionPolicy, _ = _fsdp()
        model = self.convert_model(model.to(get_device()))
        policy = MixedPrecisionPolicy(
            param_dtype=getattr(torch, self.param_dtype) if self.param_dtype else None,
            reduce_dtype=getattr(torch, self.reduce_dtype) if self.reduce_dtype else None)
        kwargs = dict(reshard_after_forward=self.reshard_after_forward, mp_policy=policy)
        for path in self.shard_units:
            try:
                container = model.get_submodule(path)
            except AttributeError:
                raise ConfigError(f'strategy.shard_units: the model has no submodule {path!r}')
            for unit in container.children():
                fully_shard(unit, **kwargs)
        fully_shard(model, **kwargs)
        return model

    # --- full (unsharded) state for checkpoints ----------------------------------------
    def _options(self, **kwargs):
        _, _, dcp = _fsdp()
        return dcp.StateDictOptions(full_state_dict=True, **kwargs)

    def model_state_dict(self) -> dict:
        """The full state dict on rank 0 (on the CPU), empty on the others; collective."""
        _, _, dcp = _fsdp()
        return dcp.get_model_state_dict(self.model, options=self._options(cpu_offload=True))

    def optim_state_dict(self) -> dict:
        """The full optimizer state on rank 0, keyed by parameter name; collective."""
        _, _, dcp = _fsdp()
        return dcp.get_optimizer_state_dict(self.model, self.optim_wrapper.optimizer,
                                            options=self._options(cpu_offload=True))

    def load_model_state_dict(self, state_dict: dict, *, strict: bool = False,
                              revise_keys: list = [(r'^module.', '')]) -> None:
        _, _, dcp = _fsdp()
        for pattern, repl in revise_keys:
            state_dict = {re.sub(pattern, repl, k): v for k, v in state_dict.items()}
        dcp.set_model_state_dict(self.model, state_dict, options=self._options(strict=strict))

    def load_optim_state_dict(self, state_dict: dict) -> None:
        _, _, dcp = _fsdp()
        dcp.set_optimizer_state_dict(self.model, self.optim_wrapper.optimizer, state_dict,
                                     options=self._options())
        # The optimizer wrapper's own state (loss scaler, counters) is not sharded.

    def save_checkpoint(self, filename: str, *, save_optimizer: bool = True,
                        save_param_scheduler: bool = True, extra_ckpt: Optional[dict] = None,
                        callback: Optional[Callable] = None) -> None:
        """Every rank gathers the full state (collective); rank 0 writes it."""
        from mmengine.runner.checkpoint import save_checkpoint
        checkpoint = dict(state_dict=self.model_state_dict())
        if save_optimizer and hasattr(self, 'optim_wrapper'):
            checkpoint['optimizer'] = self.optim_state_dict()
        if get_rank() != 0:
            return
        if save_param_scheduler and hasattr(self, 'param_schedulers'):
            checkpoint['param_schedulers'] = self.scheduler_state_dict()
        extra_ckpt = dict(extra_ckpt or {})
        extra_ckpt.setdefault('meta', {}).update(seed=self.seed)
        checkpoint.update(extra_ckpt)
        if callback is not None:
            callback(checkpoint)
        save_checkpoint(checkpoint, filename)
