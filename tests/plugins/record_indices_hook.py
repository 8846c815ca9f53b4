"""A test-only hook: writes the dataset indices each training epoch consumed, in order,
to ``<work_dir>/indices_epoch<N>.json`` (imported by test configs via custom_imports)."""
import json
import os.path as osp

from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module()
class RecordIndicesHook(Hook):

    def before_train_epoch(self, runner):
        self.indices = []

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.indices += [int(s.sample_idx) for s in data_batch['data_samples']]

    def after_train_epoch(self, runner):
        with open(osp.join(runner.work_dir, f'indices_epoch{runner.epoch}.json'), 'w') as f:
            json.dump(self.indices, f)
