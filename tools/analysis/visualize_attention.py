"""Overlay the attention that pools the patches on an image (thesis Figs. 3.10 / 5.5).

    python tools/analysis/visualize_attention.py configs/cls_patchconvnet_s60_in1k.py \
        CHECKPOINT demo.jpg
    python tools/analysis/visualize_attention.py configs/cls_cait_s24_in1k.py CHECKPOINT \
        demo.jpg --out cait.png --save-map cait.npy --force

Works for classifiers whose head pools by attention: CaiT (class-attention heads,
averaged) and PatchConvNet (one head; with ``multi_token=True`` one map per class,
chosen by --class-id, default the predicted class). The image goes through the
config's test pipeline; the map is upsampled to the crop, normalised to [0, 1],
coloured and blended with the crop. Default output: work_dirs/attention/<stem>.png.
"""
import argparse
import os
import os.path as osp
import sys

import numpy as np
import torch
import torch.nn.functional as F

import mmvision_ext  # noqa: F401  (compatibility fixes and registration)
from mmvision_ext.registry import MODELS
from mmvision_ext.errors import UserError
from mmvision_ext.runner_utils import (add_cfg_options_arg, check_checkpoint_matches,
                                       load_config, output_file, torch_device, user_errors)

SUPPORTED = 'CaiT and PatchConvNet classifiers (configs/cls_cait_*, configs/cls_patchconvnet_*)'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=' '.join(__doc__.split('\n\n')[0].split()))
    parser.add_argument('config', help='classification config (CaiT or PatchConvNet)')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('image', help='image file')
    parser.add_argument('--out', type=output_file('.png'),
                        help='output PNG (default: work_dirs/attention/<image stem>.png)')
    parser.add_argument('--save-map', metavar='NPY', type=output_file('.npy'),
                        help='also save the normalised (h, w) map over the patch grid')
    parser.add_argument('--class-id', type=int,
                        help='class whose map to show (heads with multi_token=True only; '
                             'default: the predicted class)')
    parser.add_argument('--block', type=int, default=-1,
                        help='class-attention block to read (default: the last)')
    parser.add_argument('--alpha', type=float, default=0.5, help='weight of the heat map')
    parser.add_argument('--device', type=torch_device, default='cpu', help='e.g. cpu, cuda:0')
    parser.add_argument('--force', action='store_true', help='overwrite existing outputs')
    add_cfg_options_arg(parser)
    return parser.parse_args(argv)


def check_inputs(args):
    """Everything that can be checked before building the model; returns the config."""
    cfg = load_config(args.config, args.cfg_options)
    head = cfg.get('model', {}).get('head')
    head_cls = MODELS.get(head.get('type', '')) if isinstance(head, dict) else None
    # The head class, not an instance: no need to build a large model to say no.
    if cfg.get('default_scope') != 'mmpretrain' or not hasattr(head_cls, 'attention_maps'):
        raise UserError(f'{args.config} has no attention pooling to show; '
                             f'attention maps exist for {SUPPORTED}')
    if args.class_id is not None:
        if not head.get('multi_token', False):
            raise UserError(f'--class-id needs a head with one token per class '
                                 f'(multi_token=True); {args.config} has one class token')
        if not 0 <= args.class_id < head['num_classes']:
            raise UserError(f'--class-id {args.class_id} out of range: the model has '
                                 f'{head["num_classes"]} classes (0..{head["num_classes"] - 1})')
    for what, path in (('image', args.image), ('checkpoint', args.checkpoint)):
        if not osp.isfile(path):
            raise UserError(f'{what} not found: {path}')
    for path in (args.out, args.save_map):
        if path and osp.exists(path) and not args.force:
            raise UserError(f'{path} exists; pass --force to overwrite it')
    return cfg


def build_model(cfg, checkpoint, device):
    from mmvision_ext.apis import init_model, load_model_checkpoint

    model = init_model(cfg, device='cpu')
    # A clear message for a checkpoint of another config / number of classes.
    check_checkpoint_matches(model, checkpoint)
    return load_model_checkpoint(model, checkpoint).to(device).eval()


def test_pipeline(cfg):
    """The config's test pipeline, as its test dataloader runs it."""
    from mmengine.dataset import Compose
    from mmengine.registry import init_default_scope
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    loader = cfg.get('test_dataloader') or cfg.get('val_dataloader') or {}
    pipeline = loader.get('dataset', {}).get('pipeline') or cfg.get('test_pipeline')
    if not pipeline:
        raise UserError(f'{cfg.filename} has no test pipeline')
    return Compose(pipeline)


@torch.no_grad()
def predict_and_attend(model, packed, block):
    """(logits (num_classes,), maps (heads or classes, h, w), crop RGB uint8 (H, W, 3))."""
    from mmvision_ext.apis import get_pooling_attention
    data = model.data_preprocessor(
        dict(inputs=[packed['inputs']], data_samples=[packed['data_samples']]), False)
    inputs = data['inputs']
    logits = model(inputs, mode='tensor')[0]
    maps = get_pooling_attention(model, inputs, block)[0]
    # PackInputs keeps the loader's channel order (BGR for LoadImageFromFile).
    crop = packed['inputs'].permute(1, 2, 0).numpy()[..., ::-1]
    return logits.float().cpu(), maps.float().cpu(), np.ascontiguousarray(crop, dtype=np.uint8)


def to_pixels(grid_map, patch_size, size):
    """Bilinear upsampling of a (h, w) patch-grid map onto the (H, W) crop. The grid covers
    ceil(H/p) x ceil(W/p) patches, so upsample to whole patches and cut off the padding."""
    h, w = grid_map.shape
    up = F.interpolate(grid_map[None, None], size=(h * patch_size, w * patch_size),
                       mode='bilinear', align_corners=False)[0, 0]
    return up[:size[0], :size[1]]


def normalise(x):
    x = x - x.min()
    return x / x.max() if x.max() > 0 else x


def overlay(crop, heat, alpha):
    """Blend a [0, 1] heat map, coloured with matplotlib's 'jet', onto the RGB crop."""
    from matplotlib import colormaps
    colour = colormaps['jet'](heat)[..., :3] * 255
    return ((1 - alpha) * crop + alpha * colour).round().clip(0, 255).astype(np.uint8)


def class_name(model, k):
    classes = (getattr(model, 'dataset_meta', None) or {}).get('classes')
    return f' ({classes[k]})' if classes and k < len(classes) else ''


def main(argv=None):
    args = parse_args(argv)
    with user_errors():
        cfg = check_inputs(args)
        pipeline = test_pipeline(cfg)
        model = build_model(cfg, args.checkpoint, args.device)
        blocks = len(model.head.blocks_token_only)
        if not -blocks <= args.block < blocks:
            raise UserError(f'--block {args.block}: the model has {blocks} class-attention '
                            f'blocks (0 to {blocks - 1}; -1, the default, is the last)')
        try:
            packed = pipeline(dict(img_path=args.image))
        except Exception as e:  # unreadable / not an image
            raise UserError(f'cannot read image {args.image}: {e}') from e

    logits, maps, crop = predict_and_attend(model, packed, args.block)
    pred = int(logits.argmax())
    score = float(logits.softmax(-1)[pred])
    if model.head.multi_token:
        k = pred if args.class_id is None else args.class_id
        grid_map, what = maps[k], f'class {k}{class_name(model, k)}'
    else:
        grid_map, what = maps.mean(0), f'mean of {maps.shape[0]} head(s)'
    grid_map = normalise(grid_map)
    heat = normalise(to_pixels(grid_map, model.backbone.patch_size, crop.shape[:2]))

    out = args.out or osp.join('work_dirs', 'attention',
                               osp.splitext(osp.basename(args.image))[0] + '.png')
    if osp.exists(out) and not args.force:
        sys.exit(f'error: {out} exists; pass --force to overwrite it')
    from PIL import Image
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    Image.fromarray(overlay(crop, heat.numpy(), args.alpha)).save(out, format='PNG')
    if args.save_map:
        os.makedirs(osp.dirname(osp.abspath(args.save_map)), exist_ok=True)
        np.save(args.save_map, grid_map.numpy())

    print(f'predicted: class {pred}{class_name(model, pred)}, score {score:.3f}')
    print(f'attention: {what}, {grid_map.shape[0]}x{grid_map.shape[1]} patches over a '
          f'{crop.shape[0]}x{crop.shape[1]} crop')
    print(f'saved: {out}' + (f' and {args.save_map}' if args.save_map else ''))


if __name__ == '__main__':
    main()
