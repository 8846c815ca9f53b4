"""The project's GPU figures in one run: bf16 training and inference throughput, peak
memory and MFU of every family beside its reference, and a UperNet training step.

    bash tools/analysis/gpu_report.sh --out work_dirs/gpu_report       # on the GPU
    bash tools/analysis/gpu_report.sh --device cpu --quick --out DIR  # dry run, CPU

Rows, each measured in one process with the same inputs (bf16 autocast, batch 128 at
224 unless noted; ours and the reference alternate run by run, median of the runs):

- ViT-B (DeiT III), CaiT-S24, ResMLP-S24: ours vs timm on the same weights (timm's
  random initialisation converted into ours; logits checked to agree first), eager,
  both without stochastic depth (timm's default);
- PatchConvNet-B60 at 224 (batch 128) and 512 (a quarter of it): ours vs the official
  implementation's training throughput on an H200 (``REFERENCE_IMG_S``, measured
  separately: the official code is not part of this project), without stochastic depth;
- UperNet + PatchConvNet-B60, one training step (forward, backward, AdamW) at 512x512,
  batch 8, with and without gradient checkpointing of backbone, neck and head (peak
  memory of each), and the PatchConvNet-B60 and ViT-B backbones' training memory with
  and without it;
- last, as the time budget allows, with ``torch.compile``: ViT-B training and
  inference, PatchConvNet-B60, CaiT-S24 and ResMLP-S24 training.

MFU = 2 x MACs x img/s / 790 TFLOP/s for inference, x3 for training (forward +
backward), MACs from the thesis tables (``MACS``); 790 TFLOP/s is the dense bf16 rate
the project's MFU figures use for H100/H200 (NVIDIA's datasheet peak is 989). A row that cannot run (a missing package, too little
time left of ``--budget-s``, an error) is written with its reason instead of figures.
Results go to ``OUT/gpu_report.json`` and ``OUT/gpu_report.md`` after every row.
"""
import argparse
import gc
import json
import platform
import time
import traceback
from pathlib import Path

import torch

# mmvision_ext is imported inside the rows: on a machine without OpenCV its import fails,
# and each row then reports the missing package instead of the report not starting.
ROOT = Path(__file__).resolve().parents[2]
PEAK_FLOPS = 790e12
# GMACs at 224x224 with the 1000-class head (thesis tables); 512x512 scales them by
# (512/224)^2, which holds for PatchConvNet's convolutional trunk (its attention
# pooling is a single query).
MACS = {'deit3_b': (17.5, 'T6.7'), 'cait_s24': (9.4, 'T3.15'),
        'resmlp_s24': (6.0, 'T4.3'), 'patchconvnet_b60': (15.8, 'T5.1')}
TIMM_NAMES = {'deit3_b': 'deit3_base_patch16_224', 'cait_s24': 'cait_s24_224',
              'resmlp_s24': 'resmlp_24_224'}
# Training img/s of the official PatchConvNet-B60 (facebookresearch/deit,
# patchconvnet_models.py) on an H200, bf16 autocast, eager, by image size.
REFERENCE_IMG_S = {224: 827.0, 512: 147.0}


# Left out of tools/analysis/gpu_report_pack.sh for their size: the machine must have them.
LEFT_OUT = ('cv2', 'scipy', 'matplotlib')


class SkipRow(Exception):
    """A row that is not measured, with the reason."""


class Report:
    """Rows measured one after the other, written out after each one."""

    def __init__(self, args):
        self.args = args
        self.device = torch.device(args.device)
        self.start = time.perf_counter()
        self.rows = []
        self.env = environment(self.device)
        self.out = Path(args.out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.amp_dtype = torch.bfloat16
        previous = self.out / 'gpu_report.json'
        if args.only and previous.exists():  # the other rows stay as they were
            self.rows = json.loads(previous.read_text())['rows']

    def time_left(self):
        return self.args.budget_s - (time.perf_counter() - self.start)

    def row(self, name, fn, needs_s=0):
        """Run ``fn`` (returning a dict of figures) as the row ``name``, or explain why not."""
        if self.args.only and not any(part in name for part in self.args.only.split(',')):
            return
        print(f'--- {name}', flush=True)
        t0 = time.perf_counter()
        try:
            if self.time_left() < needs_s:
                raise SkipRow(f'skipped: {self.time_left():.0f} s left of --budget-s, '
                              f'the row needs about {needs_s} s')
            result = dict(row=name, **fn())
        except SkipRow as reason:
            result = dict(row=name, not_run=str(reason))
        except ModuleNotFoundError as error:
            result = dict(row=name, not_run=f'needs the package {error.name!r}, which this '
                          'machine lacks' + (' and the pack leaves out (gpu_report_pack.sh '
                                              'says why)' if error.name in LEFT_OUT else ''))
        except Exception as error:  # noqa: BLE001  (one row's failure must not end the report)
            traceback.print_exc()
            reason = f'{type(error).__name__}: {error}'.splitlines()[0][:300]
            result = dict(row=name, not_run=reason)
        result['seconds'] = round(time.perf_counter() - t0, 1)
        print(json.dumps(result), flush=True)
        self.rows = [r if r['row'] != name else result for r in self.rows]
        if result not in self.rows:
            self.rows.append(result)
        self.write()
        gc.collect()
        if self.device.type == 'cuda':
            torch.cuda.empty_cache()

    def write(self):
        data = dict(environment=self.env, args=vars(self.args), rows=self.rows,
                    total_seconds=round(time.perf_counter() - self.start, 1))
        (self.out / 'gpu_report.json').write_text(json.dumps(data, indent=1))
        (self.out / 'gpu_report.md').write_text(markdown(data))


def environment(device):
    env = dict(python=platform.python_version(), torch=torch.__version__,
               cpu=platform.processor() or platform.machine(),
               threads=torch.get_num_threads())
    if device.type == 'cuda':
        env.update(gpu=torch.cuda.get_device_name(device), cuda=torch.version.cuda)
    for name in ('timm', 'mmengine', 'mmcv', 'mmseg', 'mmvision_ext'):
        try:
            env[name] = __import__(name).__version__
        except Exception as error:  # noqa: BLE001
            env[name] = f'not importable: {type(error).__name__}: {error}'.splitlines()[0]
    return env


def markdown(data):
    env = data['environment']
    lines = [f"Device: {env.get('gpu', env['cpu'])}; torch {env['torch']}, "
             f"timm {env['timm']}, Python {env['python']}; bf16 autocast; "
             f"{data['total_seconds']} s in all.", '',
             '| row | ours img/s | reference img/s | ratio | ours MFU | ref. MFU '
             '| ours peak MiB | ref. peak MiB | note |',
             '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |']
    for r in data['rows']:
        if 'not_run' in r:
            lines.append(f"| {r['row']} | | | | | | | | not run: {r['not_run']} |")
            continue
        cells = [r.get(k, '') for k in ('ours_img_s', 'ref_img_s', 'ratio', 'ours_mfu',
                                        'ref_mfu', 'ours_peak_mib', 'ref_peak_mib')]
        lines.append(f"| {r['row']} | " + ' | '.join(str(c) for c in cells)
                     + f" | {r.get('note', '')} |")
    return '\n'.join(lines) + '\n'


def peak_mib(step, device):
    """Peak memory of one call of ``step`` (CUDA allocator; on the CPU: not measured)."""
    if device.type != 'cuda':
        return None
    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    step()
    torch.cuda.synchronize(device)
    return round(torch.cuda.max_memory_allocated(device) / 2**20)


def mfu(img_s, gmacs, train):
    return round((6 if train else 2) * gmacs * 1e9 * img_s / PEAK_FLOPS, 3)


def compare_timm(report, key, train, compiled=False):
    from mmvision_ext.benchmark import interleaved, make_step, timm_pair
    args, device = report.args, report.device
    ours, ref, diff = timm_pair(TIMM_NAMES[key], device)
    if diff > 1e-3:
        raise RuntimeError(f'logits differ from timm {TIMM_NAMES[key]} by {diff:.2e}')
    if compiled:
        ours, ref = torch.compile(ours), torch.compile(ref)
    batch = args.batch
    x = torch.randn(batch, 3, 224, 224, device=device)
    steps = [make_step(m, x, train, report.amp_dtype) for m in (ours, ref)]
    ours_ips, ref_ips = interleaved(steps, batch, device, args.warmup, args.rounds)
    gmacs = MACS[key][0]
    return dict(ours_img_s=round(ours_ips, 1), ref_img_s=round(ref_ips, 1),
                ratio=round(ours_ips / ref_ips, 3), ours_mfu=mfu(ours_ips, gmacs, train),
                ref_mfu=mfu(ref_ips, gmacs, train), ours_peak_mib=peak_mib(steps[0], device),
                ref_peak_mib=peak_mib(steps[1], device), batch=batch,
                note=f"timm {TIMM_NAMES[key]}; max fp32 logit diff {diff:.1e}; "
                     f"MACs {gmacs} G ({MACS[key][1]})")


def skip(reason):
    def fn():
        raise SkipRow(reason)
    return fn


def patchconvnet(report, size, train, compiled=False):
    from mmvision_ext.benchmark import interleaved, make_step
    import timm

    import mmvision_ext  # noqa: F401  (registers patchconvnet_* with timm)
    args, device = report.args, report.device
    torch.manual_seed(0)
    # No stochastic depth, as the official constructors and timm's models default to (the
    # recipe's config, behind our timm entrypoint, has 0.3).
    model = timm.create_model('patchconvnet_b60_224', pretrained=False,
                              drop_path_rate=0.).to(device)
    batch = args.batch if size == 224 else max(1, args.batch // 4)
    x = torch.randn(batch, 3, size, size, device=device)
    if compiled:
        model = torch.compile(model)
    step = make_step(model, x, train, report.amp_dtype)
    ips, = interleaved([step], batch, device, args.warmup, args.rounds)
    gmacs = MACS['patchconvnet_b60'][0] * (size / 224) ** 2
    result = dict(ours_img_s=round(ips, 1), ours_mfu=mfu(ips, gmacs, train),
                  ours_peak_mib=peak_mib(step, device), batch=batch,
                  note=f"MACs {gmacs:.1f} G (T5.1 at 224, scaled)")
    if train and device.type == 'cuda':
        ref = REFERENCE_IMG_S[size]
        result.update(ref_img_s=ref, ratio=round(ips / ref, 3), ref_mfu=mfu(ref, gmacs, True),
                      note=result['note'] + '; reference: the official implementation on an H200')
    return result


def backbone_memory(report, arch, with_cp):
    """Peak memory of a training step of a backbone alone at the segmentation size."""
    from mmvision_ext.benchmark import interleaved, make_step
    from mmvision_ext.registry import MODELS
    args, device = report.args, report.device
    torch.manual_seed(0)
    family, variant = arch
    backbone = MODELS.build(dict(type=family, arch=variant, with_cp=with_cp,
                                 img_size=args.seg_size) if family != 'PatchConvNet' else
                            dict(type=family, arch=variant, with_cp=with_cp))
    model = Features(backbone).to(device)
    x = torch.randn(args.seg_batch, 3, args.seg_size, args.seg_size, device=device)
    step = make_step(model, x, True, report.amp_dtype)
    ips, = interleaved([step], args.seg_batch, device, 1, max(2, args.rounds // 2))
    return dict(ours_img_s=round(ips, 1), ours_peak_mib=peak_mib(step, device),
                batch=args.seg_batch,
                note=f'{family}-{variant} backbone alone, {args.seg_size}x{args.seg_size}, '
                     f'with_cp={with_cp}')


class Features(torch.nn.Module):
    """A backbone's last feature map as a tensor (for the surrogate loss)."""

    def __init__(self, backbone):
        super().__init__()
        self.backbone = backbone

    def forward(self, x):
        return self.backbone(x)[-1]


def upernet_step(report, with_cp):
    import importlib.util
    if importlib.util.find_spec('mmcv._ext') is None:
        raise SkipRow("mmseg 1.2.2 loads mmcv's compiled ops with its models "
                      '(mmseg/utils/mask_classification.py imports mmcv.ops); this mmcv '
                      'is its pure build (compiled ops are tied to one torch and one Python)')
    from mmengine.model import revert_sync_batchnorm
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample

    from mmvision_ext.apis import init_model
    from mmvision_ext.benchmark import interleaved
    args, device = report.args, report.device
    size = args.seg_size
    batch = args.seg_batch
    torch.manual_seed(0)
    model = init_model(str(ROOT / 'configs/upernet_patchconvnet_b60.py'),
                       cfg_options={f'model.{part}.with_cp': with_cp
                                    for part in ('backbone', 'neck', 'decode_head')})
    # A single process has no process group for SyncBN: plain BN computes the same here.
    model = revert_sync_batchnorm(model).to(device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    x = torch.randn(batch, 3, size, size, device=device)
    samples = []
    for _ in range(batch):
        sample = SegDataSample(metainfo=dict(img_shape=(size, size), pad_shape=(size, size),
                                             ori_shape=(size, size)))
        sample.gt_sem_seg = PixelData(data=torch.randint(0, 150, (1, size, size), device=device))
        samples.append(sample)

    def step():
        with torch.autocast(device.type, dtype=report.amp_dtype):
            losses = model.loss(x, samples)
        loss, _ = model.parse_losses(losses)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        step.loss = loss.item()

    ips, = interleaved([step], batch, device, max(1, args.warmup - 1), max(2, args.rounds // 2))
    return dict(ours_img_s=round(ips, 1), ours_peak_mib=peak_mib(step, device), batch=batch,
                note=f'{size}x{size}, with_cp={with_cp}, loss {step.loss:.3f} (finite: '
                     f'{bool(torch.isfinite(torch.tensor(step.loss)))})')


def main(argv=None):
    parser = argparse.ArgumentParser(description=' '.join(__doc__.split('\n\n')[0].split()))
    parser.add_argument('--device', default='cuda')
    parser.add_argument('--out', default='work_dirs/gpu_report')
    parser.add_argument('--batch', type=int, default=128, help='classification batch at 224')
    parser.add_argument('--seg-batch', type=int, default=8)
    parser.add_argument('--seg-size', type=int, default=512)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--rounds', type=int, default=10)
    parser.add_argument('--budget-s', type=float, default=450,
                        help='rows that would end past this many seconds are skipped')
    parser.add_argument('--no-compile', action='store_true')
    parser.add_argument('--only', help='run only the rows whose name contains this (or one '
                        'of these, comma-separated); the other rows of an earlier report in '
                        '--out are kept')
    parser.add_argument('--quick', action='store_true',
                        help='tiny batches and few runs: checks every row runs (CPU dry run)')
    args = parser.parse_args(argv)
    if args.quick:
        args.batch, args.seg_batch, args.seg_size, args.warmup, args.rounds = 4, 2, 256, 1, 2
    if args.device == 'cuda' and not torch.cuda.is_available():
        raise SystemExit('error: no CUDA device visible to torch; use --device cpu for a dry run')
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    report = Report(args)
    print(json.dumps(report.env), flush=True)
    for key in ('deit3_b', 'cait_s24', 'resmlp_s24'):
        for train in (True, False):
            mode = 'train' if train else 'inference'
            report.row(f'{key} {mode} eager', lambda: compare_timm(report, key, train))
    for size in (224, 512):
        for train in (True, False):
            mode = 'train' if train else 'inference'
            report.row(f'patchconvnet_b60 {size} {mode} eager',
                       lambda: patchconvnet(report, size, train))
    for with_cp in (False, True):
        report.row(f'upernet_patchconvnet_b60 train step, with_cp={with_cp}',
                   lambda: upernet_step(report, with_cp))
    for arch in (('PatchConvNet', 'b60'), ('DeiT3ViT', 'b')):
        for with_cp in (False, True):
            report.row(f'{arch[0]}-{arch[1]} backbone {args.seg_size} train, with_cp={with_cp}',
                       lambda: backbone_memory(report, arch, with_cp))
    # Seconds each compiled row needs (compilation of ours and timm's included), as on an
    # H200: 52, 110, 27 and 143 s measured; ResMLP's estimated.
    compiled = [('deit3_b train compiled',
                 lambda: compare_timm(report, 'deit3_b', True, True), 70),
                ('patchconvnet_b60 224 train compiled',
                 lambda: patchconvnet(report, 224, True, True), 130),
                ('deit3_b inference compiled',
                 lambda: compare_timm(report, 'deit3_b', False, True), 40),
                ('cait_s24 train compiled',
                 lambda: compare_timm(report, 'cait_s24', True, True), 160),
                ('resmlp_s24 train compiled',
                 lambda: compare_timm(report, 'resmlp_s24', True, True), 60)]
    for name, fn, needs_s in compiled:
        if args.no_compile:
            fn, needs_s = skip('skipped: --no-compile'), 0
        report.row(name, fn, needs_s=needs_s)
    print(f'wrote {report.out}/gpu_report.json and gpu_report.md', flush=True)


if __name__ == '__main__':
    main()
