"""Convert an official DeiT / DeiT III / CaiT / ResMLP / PatchConvNet checkpoint, or
timm's deit3_* / cait_* / resmlp_* / deit_* weights, to an mmvision_ext checkpoint.

    python tools/model_converters/official2mmvx.py deit_3_small_224_1k.pth \\
        checkpoints/deit3_s_in1k.pth

The output holds ``state_dict`` (``backbone.*`` and ``head.*`` keys, loadable by the
cls_* configs, and by dense configs through ``init_cfg=dict(type='Pretrained',
checkpoint=..., prefix='backbone.')``) and ``meta.mmvx`` (family, variant, ...).
"""
import argparse
import os
import sys

import torch

from mmvision_ext.converters import FAMILIES, ConversionError, convert_checkpoint, \
    load_checkpoint_file
from mmvision_ext.runner_utils import output_file


def main(argv=None):
    parser = argparse.ArgumentParser(description=' '.join(__doc__.split('\n\n')[0].split()))
    parser.add_argument('src', help='official or timm checkpoint (.pth)')
    parser.add_argument('dst', type=output_file('.pth', '.pt'),
                        help='where to write the converted checkpoint (.pth)')
    parser.add_argument('--family', choices=FAMILIES, help='skip detection from the keys')
    parser.add_argument('--trust-pickle', action='store_true',
                        help='load SRC with weights_only=False (runs pickled code: only for '
                             'files from a source you trust)')
    parser.add_argument('--overwrite', action='store_true', help='replace an existing DST')
    args = parser.parse_args(argv)

    if not os.path.isfile(args.src):
        sys.exit(f'error: no such file: {args.src}')
    if os.path.exists(args.dst) and not args.overwrite:
        sys.exit(f'error: {args.dst} exists; pass --overwrite to replace it')
    if args.trust_pickle:
        try:
            ckpt = torch.load(args.src, map_location='cpu', weights_only=False)
        except Exception as e:  # a truncated or foreign file
            sys.exit(f'error: {args.src} cannot be loaded: {str(e).split(". ")[0]}')
    else:
        try:
            ckpt = load_checkpoint_file(args.src)
        except ConversionError as e:  # names the file
            sys.exit(f'error: {e}')
    try:
        state_dict, info = convert_checkpoint(ckpt, args.family)
    except ConversionError as e:
        sys.exit(f'error: {args.src}: {e}')
    os.makedirs(os.path.dirname(os.path.abspath(args.dst)), exist_ok=True)
    torch.save(dict(state_dict=state_dict, meta=dict(mmvx=info)), args.dst)
    print(f'converted {info["family"]} {info["arch"]} ({len(state_dict)} tensors, '
          f'{info["num_classes"]} classes) -> {args.dst}')


if __name__ == '__main__':
    main()
