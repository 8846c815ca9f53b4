"""Test-time augmentation for instance segmentation (boxes and masks).

mmdet 3.3.0's ``DetTTAModel`` refuses instance masks. This one maps every view's
detections back to the original image - boxes un-flipped, masks (already pasted at
the original size by the mask head) un-flipped - and pools them. Class-wise NMS picks
one detection per object; with ``fuse=True`` (default) the object's box, mask and score
are then voted over every pooled detection of its class that overlaps it (IoU above
the NMS threshold), as weighted box fusion does for boxes (Solovyev et al., 2021):
score-weighted mean box, score-weighted mean mask thresholded at 0.5, and the summed
score divided by the number of views, so that an object found in one view only loses
rank. ``fuse=False`` keeps the NMS winner as it is. Returns a normal ``DetDataSample``
that ``CocoMetric`` scores.
"""
import torch
from mmcv.ops import batched_nms
from mmdet.models.test_time_augs import DetTTAModel
from mmdet.structures.bbox import bbox_flip, bbox_overlaps
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData

from mmvision_ext.registry import MODELS


def _unflip_masks(masks, direction):
    dims = {'horizontal': [-1], 'vertical': [-2], 'diagonal': [-2, -1]}[direction]
    return masks.flip(dims)


@MODELS.register_module()
class InstanceSegTTAModel(DetTTAModel):
    """Merges the views of instance segmentation TTA.

    Args:
        tta_cfg (dict, optional): what differs from the defaults
            ``nms=dict(type='nms', iou_threshold=0.5)`` (the class-wise NMS and the
            overlap that makes two detections the same object), ``max_per_img=100`` and
            ``fuse=True`` (vote boxes, masks and scores).
        **kwargs: ``module`` and the rest of ``DetTTAModel``'s arguments.
    """

    def __init__(self, tta_cfg=None, **kwargs):
        cfg = dict(nms=dict(type='nms', iou_threshold=0.5), max_per_img=100, fuse=True)
        cfg.update(tta_cfg or {})
        super().__init__(tta_cfg=ConfigDict(cfg), **kwargs)

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
            max_per_img = self.tta_cfg.max_per_img
            dets, keep = batched_nms(bboxes, scores, labels, self.tta_cfg.nms)
            keep = keep[:max_per_img]
            result.labels = labels[keep]
            if self.tta_cfg.fuse:
                result.bboxes, result.scores, result.masks = self._vote(
                    keep, bboxes, scores, labels, masks, len(data_samples))
            else:
                result.bboxes = dets[:max_per_img, :-1]
                result.scores = dets[:max_per_img, -1]
                result.masks = masks[keep]
        merged.pred_instances = result
        return merged

    def _vote(self, keep, bboxes, scores, labels, masks, num_views):
        """Box, score and mask of each kept detection, voted over its object's detections."""
        iou = bbox_overlaps(bboxes[keep], bboxes)
        same = (iou >= self.tta_cfg.nms.iou_threshold) & (labels[keep, None] == labels[None])
        weights = same * scores[None]  # (kept, pooled)
        total = weights.sum(1, keepdim=True)
        fused_boxes = weights @ bboxes / total
        fused_scores = (total[:, 0] / num_views).clamp(max=1.0)
        fused_masks = torch.stack([
            (weights[i, members] @ masks[members].flatten(1).float() / total[i]).view(
                masks.shape[1:]) >= 0.5
            for i, members in enumerate(same)])
        return fused_boxes, fused_scores, fused_masks
