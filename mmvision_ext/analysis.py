"""Parameter and FLOP counting with ``mmengine.analysis``, in the thesis' convention
(fvcore: one multiply-accumulate = one FLOP; norms counted, activations not).

mmengine's analyzer has no handles for fused attention or ``baddbmm``, so they
would count as zero; the handles below count them as the matmuls they are, as
fvcore counts an explicit attention.
"""
import torch
from mmengine.analysis import FlopAnalyzer, parameter_count
from mmengine.analysis.jit_handles import get_shape


def sdpa_flop_jit(inputs, outputs):
    """QK^T and AV of aten::scaled_dot_product_attention: B*H*Nq*Nk*(d + dv)."""
    q, k, v = (get_shape(x) for x in inputs[:3])
    batch = 1
    for s in q[:-2]:
        batch *= s
    return batch * q[-2] * k[-2] * (q[-1] + v[-1])


def baddbmm_flop_jit(inputs, outputs):
    """aten::baddbmm(bias, b1, b2): the batched matmul, like bmm (no handle in mmengine)."""
    b, m, k = get_shape(inputs[1])
    return b * m * k * get_shape(inputs[2])[-1]


def flop_analyzer(model, inputs):
    analyzer = FlopAnalyzer(model, inputs)
    analyzer.set_op_handle('aten::scaled_dot_product_attention', sdpa_flop_jit,
                           'aten::baddbmm', baddbmm_flop_jit)
    analyzer.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    return analyzer


def count_params(model):
    return parameter_count(model)['']


@torch.no_grad()
def count_flops(model, inputs):
    """Total FLOPs (MACs) of ``model(*inputs)``."""
    return flop_analyzer(model, inputs).total()


class _TensorForward(torch.nn.Module):
    """``model(inputs)`` in mmengine's 'tensor' mode, for the jit-tracing analyzer.
    Detectors also need per-image metadata (image and pad shapes) for their heads."""

    def __init__(self, model, hw):
        super().__init__()
        self.model = model
        self.hw = tuple(hw)
        self.needs_samples = hasattr(model, 'rpn_head') or hasattr(model, 'roi_head')

    def forward(self, inputs):
        if not self.needs_samples:
            return self.model(inputs, mode='tensor')
        from mmdet.structures import DetDataSample
        meta = dict(img_shape=self.hw, ori_shape=self.hw, pad_shape=self.hw,
                    batch_input_shape=self.hw, scale_factor=(1.0, 1.0))
        samples = [DetDataSample(metainfo=meta) for _ in range(inputs.shape[0])]
        return self.model(inputs, samples, mode='tensor')


def tensor_forward(model, hw):
    """Wrap an mmengine model so that calling it on an image batch runs 'tensor' mode."""
    return _TensorForward(model, hw)


@torch.no_grad()
def segmentation_confusion(model, cfg):
    """Pixel counts (K, K) of ground truth (rows) against prediction (columns) over
    ``cfg.test_dataloader``, the ignore index left out; and the class names."""
    import numpy as np

    from mmvision_ext.engine.progress import progress
    from mmvision_ext.engine.runner import ResumableRunner
    loader = ResumableRunner.build_dataloader(cfg.test_dataloader)
    classes = loader.dataset.metainfo['classes']
    ignore = loader.dataset.ignore_index
    k = len(classes)
    counts = np.zeros((k, k), np.int64)
    for batch in progress(loader, desc='confusion matrix', unit='batch'):
        for sample in model.test_step(batch):
            gt = sample.gt_sem_seg.data[0].cpu().numpy().astype(np.int64)
            pred = sample.pred_sem_seg.data[0].cpu().numpy().astype(np.int64)
            valid = (gt != ignore) & (gt < k)
            counts += np.bincount(gt[valid] * k + pred[valid], minlength=k * k).reshape(k, k)
    return counts, classes
