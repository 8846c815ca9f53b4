"""Throughput and peak-memory measurement shared by tools/analysis/benchmark.py and
tools/analysis/compare_timm.py: warm-up, then the median of several timed runs."""
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
