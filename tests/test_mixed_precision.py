"""Mixed precision (``tools/train.py --amp``): every family trains a few steps of its own
recipe in bfloat16 autocast on the CPU, with finite losses close to float32's."""
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from conftest import IMG, TINY, tiny_config
from mmvision_ext.registry import MODELS
from test_classification import _batch

STEPS = 4


def train_losses(cfg, wrapper_type):
    """Losses of STEPS recipe steps (its optimizer, clipping, data preprocessor with
    Mixup/CutMix) from the same seed; and the dtype the first block's linear layers ran in."""
    torch.manual_seed(0)
    model = MODELS.build(dict(cfg.model, data_preprocessor=cfg.data_preprocessor)).train()
    wrapper = build_optim_wrapper(model, dict(cfg.optim_wrapper, type=wrapper_type))
    dtypes = set()
    first = next(m for m in model.backbone.blocks[0].modules() if isinstance(m, torch.nn.Linear)
                 or isinstance(m, torch.nn.Conv2d))
    first.register_forward_hook(lambda m, i, o: dtypes.add(o.dtype))
    losses = []
    for step in range(STEPS):
        torch.manual_seed(100 + step)  # the same Mixup/CutMix draws in both runs
        labels = torch.randint(0, 10, (8,))
        out = model.train_step(_batch(labels, IMG), wrapper)
        losses.append(float(out['loss'].detach()))  # the sum of the loss terms, as logged
    return losses, dtypes


@pytest.mark.parametrize('family', list(TINY))
def test_bf16_training_is_finite_and_close_to_fp32(tmp_path, imagenet_root, family):
    init_default_scope('mmpretrain')
    cfg = Config.fromfile(str(tiny_config(family, imagenet_root, tmp_path, epochs=1)))
    fp32, fp32_dtypes = train_losses(cfg, 'OptimWrapper')
    bf16, bf16_dtypes = train_losses(cfg, 'MixedPrecisionOptimWrapper')
    assert fp32_dtypes == {torch.float32} and bf16_dtypes == {torch.bfloat16}
    assert all(map(torch.isfinite, map(torch.tensor, bf16))), bf16
    # bfloat16 keeps 8 bits of mantissa: a few steps stay within a few percent.
    for a, b in zip(fp32, bf16):
        assert abs(a - b) <= 0.03 * abs(a) + 1e-3, (family, fp32, bf16)
    assert fp32 != bf16
