"""Small synthetic datasets in the real on-disk formats of ADE20k, COCO, ImageNet,
CIFAR-10 and CIFAR-100 (its two label levels, for Grafit).

Every scene is a random background with textured objects. A class is a pair
(shape, texture): five shapes times two textures, so neither the outline nor the
colour alone tells the class - a model has to use both. Objects never overlap, so
each object's polygon is exactly its visible mask. Output is deterministic for a
seed.

The ADE20k set stores class ``k`` (0-based) as pixel value ``k + 1`` with 0 as
"other" (ignored by ``reduce_zero_label``), exactly as ADE20k does; its classes
carry the first ``NUM_CLASSES`` names of ADE20k's class list so that mmseg's
stock ``ADE20KDataset`` maps them onto ``0..NUM_CLASSES-1`` unchanged.
"""
import json
import math
import os
import os.path as osp

import numpy as np
from PIL import Image, ImageDraw

SHAPES = ('circle', 'square', 'triangle', 'cross', 'star')
# Each texture has its own palette family: stripes are warm, checkers are cool.
TEXTURES = ('stripes', 'checker')
SYNTHETIC_CLASSES = tuple(f'{t}_{s}' for t in TEXTURES for s in SHAPES)
NUM_CLASSES = len(SYNTHETIC_CLASSES)
# The first ten names of mmseg's ADE20KDataset.METAINFO['classes'] (checked by a test).
ADE20K_NAMES = ('wall', 'building', 'sky', 'floor', 'tree', 'ceiling', 'road',
                'bed ', 'windowpane', 'grass')
PALETTE = [[int(c) for c in col] for col in np.random.RandomState(3).randint(
    40, 255, size=(NUM_CLASSES, 3))]

TASKS = ('ade20k', 'coco', 'imagenet', 'cifar10', 'two_level')
DEFAULT_SIZE = {'ade20k': 128, 'coco': 160, 'imagenet': 64, 'cifar10': 32, 'two_level': 32}


def _polygon(shape, cx, cy, r, angle):
    """Vertices (x, y) of a shape of circumradius ``r`` centred on (cx, cy)."""
    if shape == 'circle':
        n, radii = 32, [r]
    elif shape == 'square':
        n, radii = 4, [r]
    elif shape == 'triangle':
        n, radii = 3, [r]
    elif shape == 'star':
        n, radii = 10, [r, 0.45 * r]
    elif shape == 'cross':
        # A plus sign: 12 vertices alternating between two radii/angles.
        a, b = 0.36 * r, r
        pts = [(b, a), (a, a), (a, b), (-a, b), (-a, a), (-b, a),
               (-b, -a), (-a, -a), (-a, -b), (a, -b), (a, -a), (b, -a)]
        c, s = math.cos(angle), math.sin(angle)
        return [(cx + x * c - y * s, cy + x * s + y * c) for x, y in pts]
    else:
        raise ValueError(f'unknown shape {shape!r}')
    return [(cx + radii[i % len(radii)] * math.cos(angle + 2 * math.pi * i / n),
             cy + radii[i % len(radii)] * math.sin(angle + 2 * math.pi * i / n))
            for i in range(n)]


def _texture(rng, texture, h, w):
    """An (h, w, 3) uint8 texture: warm stripes or cool checkers."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if texture == 'stripes':
        theta = rng.uniform(0, math.pi)
        period = rng.uniform(4, 8)
        phase = (xx * math.cos(theta) + yy * math.sin(theta)) / period
        on = (np.floor(phase) % 2).astype(bool)
        c1 = np.array([rng.uniform(200, 255), rng.uniform(40, 110), rng.uniform(0, 50)])
        c2 = np.array([rng.uniform(220, 255), rng.uniform(190, 240), rng.uniform(40, 100)])
    else:
        cell = rng.uniform(3, 7)
        on = ((np.floor(xx / cell) + np.floor(yy / cell)) % 2).astype(bool)
        c1 = np.array([rng.uniform(0, 60), rng.uniform(60, 140), rng.uniform(190, 255)])
        c2 = np.array([rng.uniform(120, 200), rng.uniform(200, 255), rng.uniform(200, 255)])
    return np.where(on[..., None], c1, c2)


def _background(rng, h, w):
    """Low-saturation gradient with noise and a few faint random blobs."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = rng.uniform(60, 190)
    grad = rng.uniform(-0.4, 0.4, size=2)
    lum = base + grad[0] * (xx - w / 2) + grad[1] * (yy - h / 2)
    tint = rng.uniform(-25, 25, size=3)
    img = lum[..., None] + tint + rng.normal(0, 10, size=(h, w, 3))
    canvas = Image.new('L', (w, h), 0)
    draw = ImageDraw.Draw(canvas)
    for _ in range(rng.randint(2, 6)):
        x0, y0 = rng.uniform(0, w), rng.uniform(0, h)
        rr = rng.uniform(4, max(h, w) / 4)
        draw.ellipse([x0 - rr, y0 - rr, x0 + rr, y0 + rr], fill=int(rng.uniform(20, 60)))
    img += np.asarray(canvas, np.float32)[..., None] * rng.choice([-1, 1])
    return img


def render_scene(rng, h, w, num_objects, radius_range, labels=None):
    """Render one scene; ``labels`` fixes the objects' classes (random otherwise).

    Returns the uint8 RGB image and a list of objects, each a dict with
    ``label`` (0-based class), ``polygon`` (list of (x, y)) and ``mask`` (bool HxW).
    """
    img = _background(rng, h, w)
    placed = []
    for _ in range(num_objects):
        for _attempt in range(50):
            r = rng.uniform(*radius_range)
            cx, cy = rng.uniform(r, w - r), rng.uniform(r, h - r)
            if all(math.hypot(cx - x, cy - y) > r + rr + 2 for x, y, rr in placed):
                break
        else:
            continue
        placed.append((cx, cy, r))
    objects = []
    for k, (cx, cy, r) in enumerate(placed):
        label = int(rng.randint(NUM_CLASSES)) if labels is None else labels[k]
        texture, shape = TEXTURES[label // len(SHAPES)], SHAPES[label % len(SHAPES)]
        poly = _polygon(shape, cx, cy, r, rng.uniform(0, 2 * math.pi))
        canvas = Image.new('L', (w, h), 0)
        ImageDraw.Draw(canvas).polygon(poly, fill=1)
        mask = np.asarray(canvas, bool)
        if mask.sum() < 16:
            continue
        img[mask] = _texture(rng, texture, h, w)[mask] * rng.uniform(0.85, 1.1)
        objects.append(dict(label=label, polygon=poly, mask=mask))
    return np.clip(img, 0, 255).astype(np.uint8), objects


def _image_size(rng, size, vary_aspect):
    if not vary_aspect:
        return size, size
    # Landscape and portrait images, as in ADE20k and COCO.
    long_side = int(round(size * rng.uniform(1.0, 1.5)))
    return (size, long_side) if rng.rand() < 0.7 else (long_side, size)


def _save_jpg(img, path):
    Image.fromarray(img).save(path, quality=95)


def _indices(num, desc, show_progress):
    if not show_progress:
        return range(num)
    from mmvision_ext.engine.progress import progress
    return progress(range(num), desc=desc, unit='img')


def make_ade20k(out_dir, num_train, num_val, size, seed, show_progress=False):
    rng = np.random.RandomState(seed)
    for split, num in (('training', num_train), ('validation', num_val)):
        os.makedirs(osp.join(out_dir, 'images', split), exist_ok=True)
        os.makedirs(osp.join(out_dir, 'annotations', split), exist_ok=True)
        for i in _indices(num, f'ADE20k-format {split}', show_progress):
            h, w = _image_size(rng, size, vary_aspect=True)
            img, objects = render_scene(rng, h, w, rng.randint(3, 7), (size * 0.1, size * 0.22))
            seg = np.zeros((h, w), np.uint8)  # 0 = "other", ignored
            for obj in objects:
                seg[obj['mask']] = obj['label'] + 1
            name = f'ADE_{"train" if split == "training" else "val"}_{i:08d}'
            _save_jpg(img, osp.join(out_dir, 'images', split, name + '.jpg'))
            Image.fromarray(seg).save(osp.join(out_dir, 'annotations', split, name + '.png'))


def make_coco(out_dir, num_train, num_val, size, seed, show_progress=False):
    rng = np.random.RandomState(seed)
    os.makedirs(osp.join(out_dir, 'annotations'), exist_ok=True)
    categories = [dict(id=i + 1, name=name, supercategory='shape')
                  for i, name in enumerate(SYNTHETIC_CLASSES)]
    ann_id = 1
    for split, num in (('train2017', num_train), ('val2017', num_val)):
        os.makedirs(osp.join(out_dir, split), exist_ok=True)
        images, annotations = [], []
        for i in _indices(num, f'COCO-format {split}', show_progress):
            h, w = _image_size(rng, size, vary_aspect=True)
            img, objects = render_scene(rng, h, w, rng.randint(2, 6), (size * 0.1, size * 0.25))
            image_id = len(images) + 1
            file_name = f'{image_id + (0 if split == "train2017" else 500000):012d}.jpg'
            _save_jpg(img, osp.join(out_dir, split, file_name))
            images.append(dict(id=image_id, file_name=file_name, height=h, width=w))
            for obj in objects:
                ys, xs = np.nonzero(obj['mask'])
                x0, y0 = float(xs.min()), float(ys.min())
                bbox = [x0, y0, float(xs.max() + 1) - x0, float(ys.max() + 1) - y0]
                poly = [round(float(v), 2) for xy in obj['polygon']
                        for v in (min(max(xy[0], 0), w), min(max(xy[1], 0), h))]
                annotations.append(dict(
                    id=ann_id, image_id=image_id, category_id=obj['label'] + 1,
                    segmentation=[poly], area=float(obj['mask'].sum()), bbox=bbox, iscrowd=0))
                ann_id += 1
        with open(osp.join(out_dir, 'annotations', f'instances_{split}.json'), 'w') as f:
            json.dump(dict(info=dict(description='mmvision_ext synthetic COCO-format set'),
                           licenses=[], images=images, annotations=annotations,
                           categories=categories), f)


def make_imagenet(out_dir, num_train, num_val, size, seed, show_progress=False):
    """One object per image, classes balanced."""
    rng = np.random.RandomState(seed)
    os.makedirs(osp.join(out_dir, 'meta'), exist_ok=True)
    for split, num in (('train', num_train), ('val', num_val)):
        lines = []
        for name in SYNTHETIC_CLASSES:
            os.makedirs(osp.join(out_dir, split, name), exist_ok=True)
        for i in _indices(num, f'ImageNet-format {split}', show_progress):
            label = i % NUM_CLASSES
            img, _ = render_scene(rng, size, size, 1, (size * 0.25, size * 0.4), labels=[label])
            rel = f'{SYNTHETIC_CLASSES[label]}/{split}_{i:06d}.jpg'
            _save_jpg(img, osp.join(out_dir, split, rel))
            lines.append(f'{rel} {label}\n')
        with open(osp.join(out_dir, 'meta', f'{split}.txt'), 'w') as f:
            f.writelines(lines)
    with open(osp.join(out_dir, 'meta', 'classes.txt'), 'w') as f:
        f.write('\n'.join(SYNTHETIC_CLASSES) + '\n')


def make_cifar10(out_dir, num_train, num_val, size, seed, show_progress=False):
    """The ImageNet-format set's 10 classes in CIFAR-10's python format
    (``<out_dir>/cifar-10-batches-py/``: ``data_batch_1`` to ``_5``, ``test_batch``,
    ``batches.meta``), 32-pixel images."""
    import pickle
    if size != 32:
        raise ValueError(f'CIFAR-10 has 32-pixel images, not {size}')
    rng = np.random.RandomState(seed)
    folder = osp.join(out_dir, 'cifar-10-batches-py')
    os.makedirs(folder, exist_ok=True)

    def batch(split, indices, name):
        labels = [i % NUM_CLASSES for i in indices]
        data = np.stack([
            render_scene(rng, size, size, 1, (size * 0.25, size * 0.4), labels=[y])[0]
            .transpose(2, 0, 1).reshape(-1) for y in labels])
        entry = {'batch_label': f'synthetic {name}', 'labels': labels, 'data': data,
                 'filenames': [f'{split}_{i:06d}.png' for i in indices]}
        with open(osp.join(folder, name), 'wb') as f:
            pickle.dump(entry, f, protocol=2)

    for k, part in enumerate(np.array_split(np.arange(num_train), 5), 1):
        batch('train', part.tolist(), f'data_batch_{k}')
    batch('test', list(range(num_val)), 'test_batch')
    with open(osp.join(folder, 'batches.meta'), 'wb') as f:
        pickle.dump({'label_names': list(SYNTHETIC_CLASSES), 'num_vis': size * size * 3}, f,
                    protocol=2)


# --- CIFAR-100-format two-level set (Grafit) ------------------------------------------------
# Coarse class: the shape. Fine class: the shape and the pattern drawn in it, which the
# coarse labels never name. Colours, size, position and rotation vary freely, so only
# the pattern tells fine classes of one shape apart.
PATTERNS = ('plain', 'stripes', 'checker', 'rings')
TWO_LEVEL_COARSE = SHAPES
TWO_LEVEL_FINE = tuple(f'{p}_{s}' for s in SHAPES for p in PATTERNS)


def _pattern(pattern, h, w, cx, cy):
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if pattern == 'plain':
        return np.zeros((h, w), bool)
    if pattern == 'stripes':
        return (np.floor((xx + yy) / 3) % 2).astype(bool)
    if pattern == 'checker':
        return ((np.floor(xx / 3) + np.floor(yy / 3)) % 2).astype(bool)
    return (np.floor(np.hypot(xx - cx, yy - cy) / 2.5) % 2).astype(bool)


def render_two_level(rng, fine, size=32):
    """One ``size`` x ``size`` image of fine class ``fine`` (coarse class ``fine // 4``)."""
    shape, pattern = SHAPES[fine // len(PATTERNS)], PATTERNS[fine % len(PATTERNS)]
    img = rng.uniform(60, 200, size=3) + rng.normal(0, 6, size=(size, size, 3))
    r = rng.uniform(0.34, 0.46) * size
    cx, cy = rng.uniform(r, size - r), rng.uniform(r, size - r)
    canvas = Image.new('L', (size, size), 0)
    ImageDraw.Draw(canvas).polygon(_polygon(shape, cx, cy, r, rng.uniform(0, 2 * math.pi)),
                                   fill=1)
    mask = np.asarray(canvas, bool)
    colour = rng.uniform(0, 255, size=3)
    dark = colour * rng.uniform(0.2, 0.5)
    fill = np.where(_pattern(pattern, size, size, cx, cy)[..., None], dark, colour)
    img[mask] = fill[mask]
    return np.clip(img, 0, 255).astype(np.uint8)


def make_cifar100_two_level(out_dir, num_train=2000, num_test=500, seed=0):
    """A two-level set in CIFAR-100's python format (``<out_dir>/cifar-100-python/{train,
    test,meta}``, the keys CIFAR-100 uses): 5 coarse classes (shapes), 20 fine classes
    (shape x pattern), balanced."""
    import pickle
    rng = np.random.RandomState(seed)
    folder = osp.join(out_dir, 'cifar-100-python')
    os.makedirs(folder, exist_ok=True)
    for split, num in (('train', num_train), ('test', num_test)):
        fine = [i % len(TWO_LEVEL_FINE) for i in range(num)]
        data = np.stack([render_two_level(rng, f).transpose(2, 0, 1).reshape(-1) for f in fine])
        entry = {'batch_label': f'synthetic {split}', 'fine_labels': fine,
                 'coarse_labels': [f // len(PATTERNS) for f in fine], 'data': data,
                 'filenames': [f'{split}_{i:06d}.png' for i in range(num)]}
        with open(osp.join(folder, split), 'wb') as f:
            pickle.dump(entry, f, protocol=2)
    with open(osp.join(folder, 'meta'), 'wb') as f:
        pickle.dump({'fine_label_names': list(TWO_LEVEL_FINE),
                     'coarse_label_names': list(TWO_LEVEL_COARSE)}, f, protocol=2)
    return out_dir


def _make_two_level(out_dir, num_train, num_val, size, seed, show_progress=False):
    if size != 32:
        raise ValueError(f'the two-level set has CIFAR\'s 32-pixel images, not {size}')
    make_cifar100_two_level(out_dir, num_train, num_val, seed)


MAKERS = {'ade20k': make_ade20k, 'coco': make_coco, 'imagenet': make_imagenet,
          'cifar10': make_cifar10, 'two_level': _make_two_level}


def make_dataset(task, out_dir, num_train=200, num_val=50, size=None, seed=0,
                 show_progress=False):
    """Write a synthetic dataset of ``task`` under ``out_dir`` (with a progress bar on
    the console if ``show_progress``)."""
    if task not in MAKERS:
        raise ValueError(f'unknown task {task!r}; choose one of {", ".join(TASKS)}')
    if num_train < 1 or num_val < 1:
        raise ValueError('num_train and num_val must be at least 1')
    size = size or DEFAULT_SIZE[task]
    if size < 32:
        raise ValueError(f'size must be at least 32 pixels, got {size}')
    MAKERS[task](out_dir, num_train, num_val, size, seed, show_progress)
    return out_dir
