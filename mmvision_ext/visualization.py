"""Pictures of runs and predictions: training curves from mmengine's JSON scalars,
segmentation overlays with class names and a legend, detection boxes/masks with
labels and scores, and a confusion matrix.

Every figure draws on its own Agg canvas into files: nothing opens a window, and the
pyplot backend of the importing program (a notebook, say) is left as it is.
"""
import json
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from mmvision_ext.errors import UserError


def _subplots(*args, **kwargs):
    """pyplot.subplots without pyplot: a figure on an Agg canvas, and its axes."""
    figsize = kwargs.pop('figsize', None)
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig, fig.subplots(*args, **kwargs)


# ---------------------------------------------------------------- training curves

def read_scalars(work_dir):
    """Rows of every run in ``work_dir`` (mmengine's ``<timestamp>/vis_data/scalars.json``),
    oldest run first. A resumed run repeats no step: the later run's row wins."""
    files = sorted(Path(work_dir).glob('*/vis_data/scalars.json'))
    if not files:
        raise UserError(f'no training logs in {work_dir} (looked for '
                        f'{work_dir}/<timestamp>/vis_data/scalars.json); pass the work dir '
                        'that tools/train.py wrote')
    train, val = {}, {}
    for f in files:
        for line in f.read_text().splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            step = row.get('step', row.get('iter'))
            # Training rows carry the learning rate; evaluation rows do not.
            (train if 'lr' in row else val)[step] = row
    return [train[s] for s in sorted(train)], [val[s] for s in sorted(val)]


def curve(rows, key):
    """(steps, values) of ``key`` in ``rows``."""
    pts = [(r.get('step', r.get('iter')), r[key]) for r in rows if key in r]
    return [p[0] for p in pts], [p[1] for p in pts]


def default_keys(train, val):
    keys = [k for k in ('loss', 'lr') if any(k in r for r in train)]
    for k in ('mIoU', 'accuracy/top1', 'coco/bbox_mAP', 'coco/segm_mAP'):
        if any(k in r for r in val):
            keys.append(k)
    return keys


def plot_runs(work_dirs, keys=None, out='curves.png', labels=None):
    """One panel per key, one line per run; returns {label: {key: number of points}}."""
    runs = {(labels[i] if labels else Path(d).name or str(d)): read_scalars(d)
            for i, d in enumerate(work_dirs)}
    if keys is None:
        keys = default_keys(*next(iter(runs.values())))
    fig, axes = _subplots(1, len(keys), figsize=(4.2 * len(keys), 3.4), squeeze=False)
    counts = {}
    for ax, key in zip(axes[0], keys):
        for label, (train, val) in runs.items():
            xs, ys = curve(train, key)
            if not xs:
                xs, ys = curve(val, key)
            counts.setdefault(label, {})[key] = len(xs)
            if xs:
                ax.plot(xs, ys, marker='o' if len(xs) < 30 else None, ms=3, label=label)
        ax.set_title(key)
        ax.set_xlabel('step')
        ax.grid(alpha=0.3)
        if key == 'lr':
            ax.ticklabel_format(axis='y', style='sci', scilimits=(-2, 2))
    missing = [k for k in keys if not any(c.get(k) for c in counts.values())]
    if missing:
        raise UserError(f'no values of {", ".join(missing)} in the logs; keys there: '
                        f'{", ".join(sorted(_all_keys(runs)))}')
    if len(runs) > 1:
        axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    return counts


def _all_keys(runs):
    return {k for train, val in runs.values() for r in train + val for k in r
            if k not in ('step', 'iter', 'epoch')}


# ---------------------------------------------------------------- predictions

def _legend_panel(ax, classes, palette, present):
    handles = [Patch(color=np.asarray(palette[c]) / 255, label=classes[c]) for c in present]
    if handles:
        ax.legend(handles=handles, loc='upper left', bbox_to_anchor=(1.01, 1), fontsize=8,
                  frameon=False)


def paint_segmentation(img, pred, classes, palette, gt=None, ignore_index=255, out=None):
    """``img`` (H, W, 3 RGB), ``pred`` (H, W) class ids: image | [ground truth |]
    prediction, blended with the class colours, and a legend naming every class shown."""
    palette = np.asarray(palette, np.uint8)

    def blend(lab):
        valid = (lab != ignore_index) & (lab < len(classes))
        colour = palette[np.where(valid, lab, 0)]
        return np.where(valid[..., None], 0.45 * img + 0.55 * colour, img).astype(np.uint8)

    panels = [('image', img)]
    if gt is not None:
        panels.append(('ground truth', blend(gt)))
    panels.append(('prediction', blend(pred)))
    shown = [pred] + ([gt] if gt is not None else [])
    present = sorted({int(c) for lab in shown for c in np.unique(lab)
                      if c != ignore_index and c < len(classes)})
    fig, axes = _subplots(1, len(panels), figsize=(3.2 * len(panels) + 1.6, 3.4))
    for ax, (title, panel) in zip(np.atleast_1d(axes), panels):
        ax.imshow(panel)
        ax.set_title(title, fontsize=9)
        ax.axis('off')
    _legend_panel(np.atleast_1d(axes)[-1], classes, palette, present)
    return _finish(fig, out)


def paint_detection(img, boxes, labels, scores, masks, classes, palette, score_thr=0.3,
                    out=None):
    """Boxes, masks and '<class> <score>' labels of the detections above ``score_thr``."""
    palette = np.asarray(palette, np.uint8)
    keep = np.asarray(scores) >= score_thr
    canvas = img.astype(np.float32)
    if masks is not None:
        for m, lab in zip(np.asarray(masks)[keep], np.asarray(labels)[keep]):
            canvas[m.astype(bool)] = 0.5 * canvas[m.astype(bool)] + 0.5 * palette[lab]
    fig, ax = _subplots(figsize=(5, 5 * img.shape[0] / img.shape[1]))
    ax.imshow(canvas.astype(np.uint8))
    for (x1, y1, x2, y2), lab, s in zip(np.asarray(boxes)[keep], np.asarray(labels)[keep],
                                        np.asarray(scores)[keep]):
        colour = palette[lab] / 255
        ax.add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, lw=1.5,
                                   ec=colour))
        ax.text(x1, y1, f'{classes[lab]} {s:.2f}', fontsize=7, color='white', va='bottom',
                bbox=dict(facecolor=colour, alpha=0.8, pad=1, lw=0))
    ax.axis('off')
    return _finish(fig, out)


def paint_classification(img, top, out=None):
    """The image with its top classes and scores (``top``: [(name, score), ...])."""
    fig, ax = _subplots(figsize=(4, 4.6))
    ax.imshow(img)
    ax.set_title('\n'.join(f'{name}: {score:.3f}' for name, score in top), fontsize=8)
    ax.axis('off')
    return _finish(fig, out)


def plot_confusion_matrix(counts, classes, out):
    """Rows: ground truth, columns: prediction, each row normalised to 1 (recall on the
    diagonal); the count of labelled pixels per class beside its name."""
    counts = np.asarray(counts, np.float64)
    norm = counts / np.maximum(counts.sum(1, keepdims=True), 1)
    n = len(classes)
    # Up to 30 classes, a cell per class with its value written in; beyond (ADE20k's
    # 150), the colours alone on a figure that stays a readable size.
    cell = 0.55 if n <= 30 else max(0.12, 24 / n)
    fig, ax = _subplots(figsize=(1.0 + cell * n, 0.8 + cell * 0.9 * n))
    im = ax.imshow(norm, cmap='Blues', vmin=0, vmax=1)
    for i in range(n if n <= 30 else 0):
        for j in range(n):
            if norm[i, j] >= 0.005:
                ax.text(j, i, f'{norm[i, j]:.2f}', ha='center', va='center', fontsize=7,
                        color='white' if norm[i, j] > 0.6 else 'black')
    size = 8 if n <= 30 else 5
    ax.set_xticks(range(n), [c.strip() for c in classes], rotation=90 if n > 30 else 45,
                  ha='right' if n <= 30 else 'center', fontsize=size)
    ax.set_yticks(range(n), [f'{c.strip()} ({int(s)})' for c, s in zip(classes, counts.sum(1))],
                  fontsize=size)
    ax.set_xlabel('prediction')
    ax.set_ylabel('ground truth (pixels)')
    fig.colorbar(im, ax=ax, fraction=0.046)
    return _finish(fig, out)


def _finish(fig, out):
    fig.tight_layout()
    if out is not None:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out, dpi=100, bbox_inches='tight')
    fig.canvas.draw()
    rgb = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    return rgb
