"""Test-time augmentation for instance segmentation (boxes and masks).

mmdet 3.3.0's ``DetTTAModel`` refuses instance masks. This one maps every view's
detections back to the original image - boxes un-flipped, masks (already pasted at
the original size by the mask head) un-flipped - pools them and keeps the best by
class-wise NMS, returning a normal ``DetDataSample`` that ``CocoMetric`` scores.
"""
import torch
from mmcv.ops import batched_nms
from mmdet.models.test_time_augs import DetTTAModel
from mmdet.structures.bbox import bbox_flip
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData

from mmvision_ext.registry import MODELS


def _unflip_masks(masks, direction):
    dims = {'horizontal': [-1], 'vertical': [-2], 'diagonal': [-2, -1]}[direction]
    return masks.flip(dims)


@MODELS.register_module()
class InstanceSegTTAModel(DetTTAModel):
    """``tta_cfg=dict(nms=dict(type='nms', iou_threshold=0.5), max_per_img=100)``."""

    def __init__(self, tta_cfg=None, **kwargs):
        super().__init__(tta_cfg=ConfigDict(tta_cfg or {}), **kwargs)

    def _merge_single_sample(self, data_samples):
        if data_samples[0].pred_instances.get('masks', None) is None:
            return super()._merge_single_sample(data_samples)
        bboxes, scores, labels, masks = [], [], [], []
        for sample in data_samples:
            pred, meta = sample.pred_instances, sample.metainfo
            b, m = pred.bboxes, torch.as_tensor(pred.masks)
            if meta.get('flip', False):
                b = bbox_flip(b, meta['ori_shape'], meta['flip_direction'])
                m = _unflip_masks(m, meta['flip_direction'])
            bboxes.append(b)
            scores.append(pred.scores)
            labels.append(pred.labels)
            masks.append(m)
        bboxes, scores = torch.cat(bboxes), torch.cat(scores)
        labels, masks = torch.cat(labels), torch.cat(masks)
        merged = data_samples[0]
        result = InstanceData()
        if bboxes.numel() == 0:
            result.bboxes, result.scores, result.labels, result.masks = bboxes, scores, labels, masks
        else:
            dets, keep = batched_nms(bboxes, scores, labels, self.tta_cfg.nms)
            keep = keep[:self.tta_cfg.max_per_img]
            result.bboxes = dets[:self.tta_cfg.max_per_img, :-1]
            result.scores = dets[:self.tta_cfg.max_per_img, -1]
            result.labels = labels[keep]
            result.masks = masks[keep]
        merged.pred_instances = result
        return merged
