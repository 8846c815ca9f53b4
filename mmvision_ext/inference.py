"""Single-image inference for the three tasks, with or without test-time augmentation:
the counterpart of mmseg's and mmdet's ``demo/image_demo.py`` for every config of the
project (``tools/inference.py``).

The image goes through the config's own test pipeline (or ``tta_pipeline``), without
its annotation loading, and the model's ``test_step``; results become JSON-ready dicts
(class ids and names; boxes, scores and COCO RLE masks for detection) and painted
pictures.
"""
import numpy as np
import torch
from mmengine.dataset import Compose, pseudo_collate

from mmvision_ext.apis import init_model
from mmvision_ext.errors import UserError
from mmvision_ext.runner_utils import add_flip_tta, task_of

IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')


def _without_annotations(transforms):
    """The pipeline without its ``LoadAnnotations`` steps (TestTimeAug's lists too)."""
    out = []
    for t in transforms:
        if isinstance(t, (list, tuple)):
            kept = _without_annotations(t)
            if kept:
                out.append(kept)
        elif 'LoadAnnotations' in t['type']:
            continue
        elif t['type'] == 'TestTimeAug':
            out.append(dict(t, transforms=_without_annotations(t['transforms'])))
        else:
            out.append(t)
    return out


def dataset_class(cfg):
    """The class of the config's test dataset (None if the registry does not know it)."""
    from mmengine.registry import DATASETS
    ds_type = cfg.test_dataloader.dataset.type
    if not isinstance(ds_type, str):
        return ds_type
    scope = cfg.get('default_scope')
    # The root registry finds a module of another scope only through its prefix.
    return DATASETS.get(ds_type if '.' in ds_type or not scope else f'{scope}.{ds_type}')


def default_argument(cls, name, fallback):
    """The default of ``cls.__init__``'s argument ``name``."""
    import inspect
    try:
        param = inspect.signature(cls).parameters.get(name)
    except (TypeError, ValueError):
        return fallback
    return fallback if param is None or param.default is param.empty else param.default


def num_classes(model):
    """Classes of a classifier, segmentor or detector head."""
    for path in ('head', 'decode_head', 'roi_head.bbox_head', 'bbox_head'):
        obj = model
        for name in path.split('.'):
            obj = getattr(obj, name, None)
        if obj is not None and hasattr(obj, 'num_classes'):
            return int(obj.num_classes)
    raise UserError(f'{type(model).__name__}: no head with num_classes; set '
                    'test_dataloader.dataset.metainfo.classes in the config')


class Predictor:
    """A model of any config of the project, ready for one image at a time.

    Args:
        config: config path or name.
        checkpoint: checkpoint file (a trained or converted model).
        tta (bool): test-time augmentation (the config's ``tta_pipeline`` and
            ``tta_model``; flip averaging for classification), as ``tools/test.py --tta``.
        device (str): where the model runs.
    """

    def __init__(self, config, checkpoint, tta=False, device='cpu'):
        from mmvision_ext.registry import MODELS
        self.model = init_model(config, checkpoint, device=device)
        cfg = self.model.cfg
        self.task = task_of(cfg)
        if self.task is None:
            raise UserError(f'{config}: no default_scope of mmseg, mmdet or mmpretrain')
        if tta and self.task == 'cls':
            add_flip_tta(cfg)
        if tta and ('tta_model' not in cfg or 'tta_pipeline' not in cfg):
            raise UserError(f'{config} defines no tta_model/tta_pipeline for --tta')
        self.runner_model = self.model
        if tta:
            self.runner_model = MODELS.build(dict(cfg.tta_model, module=self.model)).eval()
        pipeline = cfg.tta_pipeline if tta else cfg.test_dataloader.dataset.pipeline
        self.pipeline = Compose(_without_annotations(pipeline))
        self.classes, self.palette = self._meta(cfg)

    def _meta(self, cfg):
        meta = dict(getattr(self.model, 'dataset_meta', None) or {})
        ds = cfg.test_dataloader.dataset
        ds_cls = dataset_class(cfg)
        classes = meta.get('classes') or ds.get('metainfo', {}).get('classes')
        if classes is None:
            classes = getattr(ds_cls, 'METAINFO', {}).get('classes')
        if classes is None:
            classes = [str(i) for i in range(num_classes(self.model))]
        palette = meta.get('palette')
        if not palette or len(palette) < len(classes):
            palette = np.random.RandomState(3).randint(40, 255, (len(classes), 3)).tolist()
        # mmseg's datasets that drop label 0 ("other", reduce_zero_label) number classes
        # from 1 in their annotation files; label maps are written in that numbering.
        self.label_offset = int(bool(ds.get('reduce_zero_label', default_argument(
            ds_cls, 'reduce_zero_label', False)))) if self.task == 'seg' else 0
        return [c.strip() for c in classes], palette

    def label_map(self, sample):
        """(H, W) uint8 class ids of a segmentation result, numbered as the dataset's
        annotation files (as mmseg's ``tools/test.py --out`` writes them)."""
        pred = sample.pred_sem_seg.data[0].cpu().numpy()
        return (pred + self.label_offset).astype(np.uint8)

    @torch.no_grad()
    def __call__(self, path):
        data = self.pipeline(dict(img_path=str(path), img_id=0))
        return self.runner_model.test_step(pseudo_collate([data]))[0]

    # ------------------------------------------------------------ results as JSON
    def to_json(self, sample, score_thr=0.3):
        """Predictions of one image: class ids and names (and per task: scores, pixel
        counts, boxes and RLE masks)."""
        if self.task == 'cls':
            scores = sample.pred_score.float().cpu()
            top = scores.topk(min(5, len(scores)))
            return dict(pred_label=int(sample.pred_label), pred_class=self.classes[
                int(sample.pred_label)], pred_score=float(scores.max()), topk=[
                dict(label=int(i), name=self.classes[int(i)], score=float(s))
                for s, i in zip(top.values, top.indices)])
        if self.task == 'seg':
            pred = sample.pred_sem_seg.data[0].cpu().numpy()
            ids, counts = np.unique(pred, return_counts=True)
            return dict(height=int(pred.shape[0]), width=int(pred.shape[1]), classes=[
                dict(label=int(i), name=self.classes[int(i)], pixels=int(n),
                     fraction=round(float(n) / pred.size, 6)) for i, n in zip(ids, counts)])
        from pycocotools import mask as mask_util
        inst = sample.pred_instances
        keep = inst.scores >= score_thr
        masks = inst.masks[keep].cpu().numpy() if 'masks' in inst else None
        out = []
        for k, (box, label, score) in enumerate(zip(inst.bboxes[keep].tolist(),
                                                    inst.labels[keep].tolist(),
                                                    inst.scores[keep].tolist())):
            item = dict(label=int(label), name=self.classes[label], score=round(score, 5),
                        bbox=[round(v, 2) for v in box])
            if masks is not None:
                rle = mask_util.encode(np.asfortranarray(masks[k].astype(np.uint8)))
                item['mask'] = dict(size=list(rle['size']), counts=rle['counts'].decode())
            out.append(item)
        return dict(score_thr=score_thr, instances=out)

    def paint(self, img_rgb, sample, out, score_thr=0.3):
        """The painted prediction of one image, written to ``out`` (PNG)."""
        from mmvision_ext import visualization as vis
        if self.task == 'cls':
            top = [(t['name'], t['score']) for t in self.to_json(sample)['topk']]
            return vis.paint_classification(img_rgb, top, out=out)
        if self.task == 'seg':
            return vis.paint_segmentation(img_rgb, sample.pred_sem_seg.data[0].cpu().numpy(),
                                          self.classes, self.palette, out=out)
        inst = sample.pred_instances
        return vis.paint_detection(
            img_rgb, inst.bboxes.cpu().numpy(), inst.labels.cpu().numpy(),
            inst.scores.cpu().numpy(), inst.masks.cpu().numpy() if 'masks' in inst else None,
            self.classes, self.palette, score_thr=score_thr, out=out)
