"""Parameters and FLOPs of a config's model (multiply-accumulates, the thesis' convention).

    python tools/analysis/get_flops.py configs/cls_patchconvnet_s60_in1k.py
    python tools/analysis/get_flops.py configs/upernet_patchconvnet_b60.py --shape 512 2048 --json

With --json the last line is a JSON object with keys params_m and gflops.
"""
import argparse
import json
import sys

import torch

from mmvision_ext.analysis import count_flops, count_params, tensor_forward
from mmvision_ext.apis import init_model
from mmvision_ext.runner_utils import add_cfg_options_arg, load_config, positive_int, user_errors


def main(argv=None):
    parser = argparse.ArgumentParser(description=' '.join(__doc__.split('\n\n')[0].split()))
    parser.add_argument('config')
    parser.add_argument('--shape', type=positive_int, nargs='+', default=[224],
                        help='input H [W] (default 224; W defaults to H)')
    parser.add_argument('--json', action='store_true', help='end with one JSON line')
    add_cfg_options_arg(parser)
    args = parser.parse_args(argv)
    if len(args.shape) not in (1, 2):
        sys.exit('error: --shape takes H or H W')
    h, w = args.shape[0], args.shape[-1]
    with user_errors() as run:  # config mistakes: one line
        run.cfg = load_config(args.config, args.cfg_options)
        model = init_model(run.cfg, device='cpu')
        with torch.no_grad():
            flops = count_flops(tensor_forward(model, (h, w)), (torch.zeros(1, 3, h, w),))
    params = count_params(model)
    print(f'config: {args.config}\ninput: 1x3x{h}x{w}\n'
          f'params: {params / 1e6:.2f} M\nflops: {flops / 1e9:.2f} G (multiply-accumulates)')
    if args.json:
        print(json.dumps(dict(params_m=round(params / 1e6, 3), gflops=round(flops / 1e9, 3),
                              shape=[h, w], config=args.config)))


if __name__ == '__main__':
    main()
