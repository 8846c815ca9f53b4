"""Images per second and peak memory of a config's model, after warm-up, median of
several timed runs.

    python tools/analysis/benchmark.py configs/cls_deit3_s_in1k.py --batch-size 32
    python tools/analysis/benchmark.py configs/upernet_patchconvnet_b60.py --shape 512 \\
        --batch-size 8 --device cuda --amp bf16 --train

With --train a step is forward + backward of the model in 'tensor' mode (a
squared-output surrogate loss, so every task's model is timed the same way).
``step_mem_mib`` is what the steps add to the memory of the built model: on CUDA the
peak allocated minus the allocation before the first step, on the CPU the rise of the
process's peak resident set (one configuration per process), e.g. activation memory
with and without gradient checkpointing:

    python tools/analysis/benchmark.py upernet_patchconvnet_b60 --shape 512 --batch-size 1 \
        --train --runs 1 --warmup 0 --cfg-options model.backbone.with_cp=True \
        model.neck.with_cp=True model.decode_head.with_cp=True
"""
import argparse
import json

import torch

from mmvision_ext.analysis import count_flops, tensor_forward
from mmvision_ext.apis import init_model
from mmvision_ext.benchmark import make_step, measure, memory_mib
from mmvision_ext.runner_utils import (
    add_cfg_options_arg, load_config, positive_int, torch_device, user_errors
)


def main(argv=None):
    parser = argparse.ArgumentParser(description=' '.join(__doc__.split('\n\n')[0].split()))
    parser.add_argument('config')
    parser.add_argument('--batch-size', type=positive_int, default=32)
    parser.add_argument('--shape', type=positive_int, nargs='+', default=[224])
    parser.add_argument('--device', type=torch_device, default='cpu', help='cpu or cuda[:N]')
    parser.add_argument('--amp', choices=['bf16', 'fp16'])
    parser.add_argument('--compile', action='store_true')
    parser.add_argument('--train', action='store_true')
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--runs', type=positive_int, default=10)
    add_cfg_options_arg(parser)
    args = parser.parse_args(argv)
    if len(args.shape) not in (1, 2):
        parser.error('--shape takes H or H W')
    h, w = args.shape[0], args.shape[-1]
    device = torch.device(args.device)
    with user_errors() as run:  # config mistakes: one line
        run.cfg = load_config(args.config, args.cfg_options)
        model = init_model(run.cfg, device='cpu')
        net = tensor_forward(model, (h, w)).to(device)
    if args.compile:
        net = torch.compile(net)
    x = torch.randn(args.batch_size, 3, h, w, device=device)
    dtype = {'bf16': torch.bfloat16, 'fp16': torch.float16, None: None}[args.amp]
    if device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(device)
    before = (torch.cuda.memory_allocated(device) / 2**20 if device.type == 'cuda'
              else memory_mib(device))
    ips, peak = measure(make_step(net, x, args.train, dtype), args.batch_size, device,
                        args.warmup, args.runs)
    with torch.no_grad():  # after the timing: the FLOP count's trace is not in the peak
        flops = count_flops(tensor_forward(model.cpu().eval(), (h, w)), (torch.zeros(1, 3, h, w),))
    result = dict(config=args.config, device=str(device), batch_size=args.batch_size,
                  shape=[h, w], mode='train' if args.train else 'inference',
                  amp=args.amp, compile=args.compile, cfg_options=args.cfg_options,
                  img_per_s=float(f'{ips:.4g}'), peak_mem_mib=round(peak, 1),
                  step_mem_mib=round(peak - before, 1), gflops_per_img=round(flops / 1e9, 2))
    if device.type == 'cuda':
        # Model-FLOPs utilisation against 790 TFLOP/s, the dense bf16 rate the project's MFU
        # figures use for H100/H200 (as gpu_report.py; NVIDIA's datasheet peak is 989);
        # 2 FLOPs per MAC, x3 for forward + backward.
        peak_tflops = 790e12
        factor = 3 if args.train else 1
        result['mfu'] = round(2 * factor * flops * ips / peak_tflops, 3)
    print(f'{ips:.4g} img/s, peak memory {peak:.0f} MiB ({peak - before:.0f} MiB for the steps)')
    print(json.dumps(result))


if __name__ == '__main__':
    main()
