"""Throughput and peak-memory measurement shared by tools/analysis/benchmark.py,
compare_timm.py and gpu_report.py: warm-up, then the median of several timed runs."""
import contextlib
import resource
import statistics
import time

import torch


class Logits(torch.nn.Module):
    """A classifier of this project as a plain images -> logits module (timm's interface),
    for timing it beside timm's models.

    Args:
        model (BaseModel): the classifier, called with ``mode='tensor'``.
    """

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x, mode='tensor')


def timm_pair(timm_name, device='cpu', drop_path_rate=0.):
    """Our classifier and timm's ``timm_name`` on the same weights (timm's random
    initialisation converted into ours), both images -> logits, in eval mode, and the
    largest difference of their fp32 logits on two random images (TF32 off).

    Both get the stochastic depth rate ``drop_path_rate``, by default timm's default,
    none: our classifier is otherwise the one of its training recipe's config, whose
    rate (0.1 for ViT-B, CaiT-S24, ResMLP-S24) would time extra work in training.
    (timm raises DeiT III's rate linearly with depth, from 0 in the first block; ours
    and the official code keep it constant.)
    """
    import timm

    from mmvision_ext.converters import build_classifier, convert_checkpoint
    device = torch.device(device)
    torch.manual_seed(0)
    ref = timm.create_model(timm_name, pretrained=False, drop_path_rate=drop_path_rate)
    state_dict, info = convert_checkpoint(ref.state_dict())
    ours = build_classifier(info, drop_path_rate=drop_path_rate)
    ours.load_state_dict(state_dict, strict=True)
    ours, ref = Logits(ours).to(device).eval(), ref.to(device).eval()
    x = torch.randn(2, 3, 224, 224, device=device)
    with torch.no_grad(), no_tf32():
        diff = (ours(x) - ref(x)).abs().max().item()
    return ours, ref, diff


@contextlib.contextmanager
def no_tf32():
    """CUDA matmuls and convolutions in full fp32 (no TF32) inside the block."""
    old = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = old


def _sync(device):
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def make_step(model, batch, train=False, amp_dtype=None):
    """A callable running one forward (inference) or forward + backward (training)."""
    device = batch.device
    autocast = (torch.autocast(device.type, dtype=amp_dtype) if amp_dtype is not None
                else contextlib.nullcontext())
    if train:
        model.train()
        params = [p for p in model.parameters() if p.requires_grad]

        def step():
            with autocast:
                out = model(batch)
                out = out[0] if isinstance(out, (tuple, list)) else out
                loss = out.float().square().mean()
            loss.backward()
            for p in params:
                p.grad = None
    else:
        model.eval()

        def step():
            with torch.inference_mode(), autocast:
                model(batch)
    return step


def memory_mib(device):
    """Peak memory so far in MiB: CUDA max allocated; CPU the process's peak resident set."""
    device = torch.device(device)
    if device.type == 'cuda':
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def minor_page_faults(step):
    """Minor page faults of the process during one call of ``step`` (Linux). On the CPU a
    step whose tensors land in memory that the C allocator has just returned to the
    system pays one fault per 4 KiB page it touches, which can cost as much as its
    arithmetic."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    step()
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


def measure(step, batch_size, device, warmup=3, runs=10):
    """Median images/second over ``runs`` timed runs, and peak memory in MiB
    (``memory_mib``)."""
    device = torch.device(device)
    if device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(device)
    for _ in range(warmup):
        step()
    _sync(device)
    rates = []
    for _ in range(runs):
        start = time.perf_counter()
        step()
        _sync(device)
        rates.append(batch_size / (time.perf_counter() - start))
    return statistics.median(rates), memory_mib(device)


def interleaved(steps, batch_size, device, warmup=3, rounds=10):
    """Median images/second of several steps measured in alternation (one run of each
    per round), so that drifts of the machine affect all of them alike."""
    device = torch.device(device)
    for step in steps:
        for _ in range(warmup):
            step()
    _sync(device)
    rates = [[] for _ in steps]
    for _ in range(rounds):
        for i, step in enumerate(steps):
            start = time.perf_counter()
            step()
            _sync(device)
            rates[i].append(batch_size / (time.perf_counter() - start))
    return [statistics.median(r) for r in rates]
