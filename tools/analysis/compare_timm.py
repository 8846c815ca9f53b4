"""Our implementation and timm's, side by side in one process, on the same weights.

    python tools/analysis/compare_timm.py                      # CPU, the default pairs
    python tools/analysis/compare_timm.py --pairs deit3_b --device cuda --amp bf16 --train

Runs are interleaved (ours, timm, ours, ...) and the median throughput of each is
reported with the ratio ours / timm. Outputs are checked to agree first (largest logit
difference at most 1e-4 in fp32): a pair that disagrees stops the tool with an error,
untimed. Both run without stochastic depth (timm's default) unless ``--drop-path`` gives
both a rate.
"""
import argparse
import json

import torch

from mmvision_ext.benchmark import interleaved, make_step, timm_pair
from mmvision_ext.runner_utils import positive_int, torch_device

PAIRS = {  # our variant: timm model
    'deit3_s': 'deit3_small_patch16_224',
    'deit3_b': 'deit3_base_patch16_224',
    'cait_xxs24': 'cait_xxs24_224',
    'cait_s24': 'cait_s24_224',
    'resmlp_s12': 'resmlp_12_224',
    'resmlp_b24p8': 'resmlp_big_24_224',  # timm's ResMLP-B24 has 8x8 patches
    'deit_s_distilled': 'deit_small_distilled_patch16_224',
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=' '.join(__doc__.split('\n\n')[0].split()))
    parser.add_argument('--pairs', nargs='+', default=['deit3_s', 'cait_xxs24', 'resmlp_s12'],
                        choices=sorted(PAIRS))
    parser.add_argument('--batch-size', type=positive_int, default=32)
    parser.add_argument('--device', type=torch_device, default='cpu', help='cpu or cuda[:N]')
    parser.add_argument('--amp', choices=['bf16', 'fp16'])
    parser.add_argument('--train', action='store_true', help='forward + backward')
    parser.add_argument('--compile', action='store_true', help='torch.compile both')
    parser.add_argument('--drop-path', type=float, default=0.,
                        help="stochastic depth rate of both in training (default: timm's, 0)")
    parser.add_argument('--rounds', type=positive_int, default=10)
    parser.add_argument('--threads', type=positive_int, default=None, help='CPU threads')
    args = parser.parse_args(argv)
    if not 0 <= args.drop_path < 1:
        parser.error(f'argument --drop-path: a rate in [0, 1), got {args.drop_path}')
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    dtype = {'bf16': torch.bfloat16, 'fp16': torch.float16, None: None}[args.amp]
    results = []
    for name in args.pairs:
        ours, ref, diff = timm_pair(PAIRS[name], device, args.drop_path)
        x = torch.randn(args.batch_size, 3, 224, 224, device=device)
        if diff > 1e-4:
            raise SystemExit(f'error: {name}: logits differ from timm {PAIRS[name]} by {diff:.2e} '
                             '(> 1e-4); not timing models that compute different things')
        if args.compile:
            ours, ref = torch.compile(ours), torch.compile(ref)
        steps = [make_step(m, x, args.train, dtype) for m in (ours, ref)]
        ours_ips, timm_ips = interleaved(steps, args.batch_size, device, rounds=args.rounds)
        row = dict(model=name, timm=PAIRS[name], ours_img_s=round(ours_ips, 2),
                   timm_img_s=round(timm_ips, 2), ratio=round(ours_ips / timm_ips, 3),
                   max_abs_logit_diff=diff)
        results.append(row)
        print(f'{name:18s} ours {ours_ips:9.2f} img/s   timm {timm_ips:9.2f} img/s   '
              f'ratio {ours_ips / timm_ips:.3f}   (max |logit diff| {diff:.1e})', flush=True)
    mode = ('train' if args.train else 'inference') + (f' {args.amp}' if args.amp else ' fp32')
    print(json.dumps(dict(device=str(device), mode=mode, batch_size=args.batch_size,
                          drop_path_rate=args.drop_path,
                          threads=torch.get_num_threads(), results=results)))


if __name__ == '__main__':
    main()
