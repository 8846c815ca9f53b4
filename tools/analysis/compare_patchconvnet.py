"""PatchConvNet's trunk against the official formulation, side by side in one process.

    python tools/analysis/compare_patchconvnet.py                  # S60, CPU, inference
    python tools/analysis/compare_patchconvnet.py --arch s20 --batch-size 16 --train

The reference computes the trunk as facebookresearch/deit's ``patchconvnet_models.py``
does, written out here from the thesis (chapter 5): the stem's convolutions on the NCHW
batch, then tokens (B, N, C) between blocks, a
LayerNorm on them, and in each block a reshape to an NCHW map for its convolutions
(1x1, GELU, depthwise 3x3, GELU, squeeze-excite, 1x1) and back. It runs on the
parameters of our model, so both compute the same function: outputs are checked to
agree (at most 1e-4) before anything is timed. Runs alternate (ours, reference, ...);
the median images/second of each, the ratio ours / reference and the minor page faults
of one step of each are printed, then one JSON line. Both include the stem; the
attention-pooling head, the same in both, is left out.

glibc's allocator returns freed tensor memory to the system and faults it in again,
more or less often from one process to the next; for figures that do not depend on
it, keep freed memory in the process:

    MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=4294967296 \
        python tools/analysis/compare_patchconvnet.py
"""
import argparse
import json

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmvision_ext.benchmark import interleaved, make_step, minor_page_faults
from mmvision_ext.models.backbones.patchconvnet import PatchConvNet
from mmvision_ext.runner_utils import positive_int


class OfficialFormulation(nn.Module):
    """The trunk of ``model`` computed the official way (see the module docstring).

    Args:
        model (PatchConvNet): whose parameters it uses (LayerNorm blocks).
    """

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        for layer in self.model.patch_embed.proj:  # NCHW, the whole batch at once
            x = F.gelu(x) if isinstance(layer, nn.GELU) else F.conv2d(
                x, layer[0].weight, stride=2, padding=1)
        B, C, H, W = x.shape
        x = x.flatten(2).transpose(1, 2)
        for blk in self.model.blocks:
            conv1, _, dw, _, se, conv2 = blk.attn.qkv_pos
            y = blk.norm1(x).transpose(1, 2).reshape(B, C, H, W)
            y = F.gelu(F.conv2d(y, conv1.weight, conv1.bias))
            y = F.gelu(F.conv2d(y, dw.weight, dw.bias, padding=1, groups=C))
            s = F.relu(F.conv2d(y.mean((2, 3), keepdim=True), se.conv_reduce.weight,
                                se.conv_reduce.bias))
            y = y * torch.sigmoid(F.conv2d(s, se.conv_expand.weight, se.conv_expand.bias))
            y = F.conv2d(y, conv2.weight, conv2.bias).reshape(B, C, H * W).transpose(1, 2)
            x = x + blk.drop_path(blk.gamma_1 * y)
        return x


def main(argv=None):
    parser = argparse.ArgumentParser(description=' '.join(__doc__.split('\n\n')[0].split()))
    parser.add_argument('--arch', default='s60', choices=sorted(PatchConvNet.arch_zoo))
    parser.add_argument('--batch-size', type=positive_int, default=32)
    parser.add_argument('--img-size', type=positive_int, default=224)
    parser.add_argument('--train', action='store_true', help='forward + backward')
    parser.add_argument('--rounds', type=positive_int, default=10)
    parser.add_argument('--threads', type=positive_int, default=None, help='CPU threads')
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    # The last block's output as (B, N, C) tokens, the reference's layout.
    ours = PatchConvNet(arch=args.arch, out_indices=(-1,), out_type='tokens')
    with torch.no_grad():  # LayerScale at 0.1 rather than its 1e-4 start: every block counts
        for blk in ours.blocks:
            blk.gamma_1.fill_(0.1)
    ref = OfficialFormulation(ours)
    x = torch.randn(args.batch_size, 3, args.img_size, args.img_size)
    with torch.no_grad():
        diff = (ours.eval()(x[:2])[0] - ref.eval()(x[:2])).abs().max().item()
    if diff > 1e-4:
        raise SystemExit(f'error: PatchConvNet-{args.arch}: outputs differ from the official '
                         f'formulation by {diff:.2e} (> 1e-4); not timing them')
    steps = [make_step(m, x, args.train) for m in (ours, ref)]
    ours_ips, ref_ips = interleaved(steps, args.batch_size, 'cpu', rounds=args.rounds)
    ours_faults, ref_faults = (minor_page_faults(step) for step in steps)
    print(f'PatchConvNet-{args.arch} ours {ours_ips:.2f} img/s   official formulation '
          f'{ref_ips:.2f} img/s   ratio {ours_ips / ref_ips:.3f}   (max |diff| {diff:.1e})')
    print(f'minor page faults per step: ours {ours_faults}, official formulation {ref_faults}')
    print(json.dumps(dict(arch=args.arch, mode='train' if args.train else 'inference',
                          batch_size=args.batch_size, threads=torch.get_num_threads(),
                          ours_img_s=round(ours_ips, 2), reference_img_s=round(ref_ips, 2),
                          ratio=round(ours_ips / ref_ips, 3), max_abs_diff=diff,
                          ours_page_faults=ours_faults, reference_page_faults=ref_faults)))


if __name__ == '__main__':
    main()
