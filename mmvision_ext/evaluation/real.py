"""ImageNet-ReaL (Beyer et al., 2020): the 50,000 ImageNet validation images relabelled
with every class that fits (``real.json``, one list of class indices per image, in the
order of ``ILSVRC2012_val_00000001`` ... ``00050000``). An image scores when its top-1
class is one of its labels; images whose label list is empty are left out, as the
authors score it. The thesis reports it beside ImageNet-val in most tables."""
import json
import os.path as osp
import re

import torch
from mmengine.evaluator import BaseMetric

from mmvision_ext.registry import METRICS

_VAL_INDEX = re.compile(r'ILSVRC2012_val_(\d{8})')


@METRICS.register_module()
class ImageNetReaLAccuracy(BaseMetric):
    """Top-1 accuracy against the ReaL labels, for ImageNet-val test sets.

    Args:
        real_json (str): path of ``real.json``.
        collect_device (str): mmengine's: where the ranks' results are gathered.
        prefix (str): metric name prefix. Default: ``'real'``.
    """
    default_prefix = 'real'

    def __init__(self, real_json, collect_device='cpu', prefix=None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        if not osp.isfile(real_json):
            raise FileNotFoundError(f'ImageNet-ReaL labels not found: {real_json} '
                                    '(real.json of google-research/reassessed-imagenet)')
        with open(real_json) as f:
            self.real_labels = json.load(f)

    def process(self, data_batch, data_samples):
        for sample in data_samples:
            match = _VAL_INDEX.search(osp.basename(sample['img_path']))
            if match is None:
                raise ValueError(f"{sample['img_path']}: ReaL labels are for the ImageNet "
                                 'validation images (ILSVRC2012_val_<8 digits>)')
            index = int(match.group(1)) - 1
            if index >= len(self.real_labels):
                raise ValueError(f"{sample['img_path']}: real.json has "
                                 f'{len(self.real_labels)} entries')
            labels = self.real_labels[index]
            if not labels:  # no fitting class: not scored
                continue
            score = sample.get('pred_score')
            top1 = int(torch.as_tensor(score).argmax()) if score is not None \
                else int(sample['pred_label'])
            self.results.append(top1 in labels)

    def compute_metrics(self, results):
        if not results:
            raise ValueError('no image with ReaL labels was evaluated')
        return dict(top1=100.0 * sum(results) / len(results))
