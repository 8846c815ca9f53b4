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


def fit_linear_classifier(features, labels, num_classes, steps=200, weight_decay=1e-4):
    """A multinomial logistic regression on fixed features (full batch, L-BFGS); returns
    the (C, D) weights and (C,) biases."""
    torch.manual_seed(0)
    features = features.float()
    linear = torch.nn.Linear(features.shape[1], num_classes)
    optimizer = torch.optim.LBFGS(linear.parameters(), max_iter=steps, line_search_fn='strong_wolfe')

    def closure():
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(linear(features), labels) \
            + weight_decay * linear.weight.square().sum()
        loss.backward()
        return loss
    optimizer.step(closure)
    return linear.weight.detach(), linear.bias.detach()


def separability(features, coarse, num_splits=10, seed=0):
    """Thesis Table 2.1: split each coarse class's images at random into two halves (2C
    synthetic fine classes), fit a linear classifier on the fixed features and measure
    its top-1 on those (training) images; mean and std over ``num_splits`` splits, without
    and with coarse conditioning (a linear coarse classifier's softmax times the fine
    classifier's softmax within the predicted coarse class's two halves).

    Returns a dict of ``no_cond`` and ``coarse_cond``, each ``(mean %, std %)``.
    """
    features = torch.nn.functional.normalize(features.float(), dim=-1)
    num_coarse = int(coarse.max()) + 1
    w, b = fit_linear_classifier(features, coarse, num_coarse)
    coarse_probs = (features @ w.T + b).softmax(-1)
    g = torch.Generator().manual_seed(seed)
    plain, conditioned = [], []
    for _ in range(num_splits):
        fine = torch.empty_like(coarse)
        for c in range(num_coarse):
            members = (coarse == c).nonzero().flatten()
            members = members[torch.randperm(len(members), generator=g)]
            half = len(members) // 2
            fine[members[:half]] = 2 * c
            fine[members[half:]] = 2 * c + 1
        w_f, b_f = fit_linear_classifier(features, fine, 2 * num_coarse)
        logits = features @ w_f.T + b_f
        plain.append((logits.argmax(-1) == fine).float().mean().item())
        # p(fine) = p_c(coarse of fine) x p(fine | its coarse class), softmax over the pair
        within = logits.view(len(fine), num_coarse, 2).softmax(-1)
        joint = (coarse_probs[:, :, None] * within).flatten(1)
        conditioned.append((joint.argmax(-1) == fine).float().mean().item())

    def stats(values):
        t = torch.tensor(values) * 100
        return float(t.mean()), float(t.std()) if len(values) > 1 else 0.0
    return dict(no_cond=stats(plain), coarse_cond=stats(conditioned))
