"""``compile=dict(modules=[...])``: the runner trains with those submodules compiled by
torch.compile (inductor, the default backend) and gets eager's losses; checkpoints keep
eager's parameter names."""
import torch
from mmengine.config import Config
from mmengine.registry import RUNNERS

from conftest import ROOT

DEMO = ROOT / 'configs' / 'upernet_patchconvnet_demo_synthetic.py'


def train_demo(data_root, work, name, model_options=(), **extra):
    """Three iterations of a narrow demo UperNet; the training losses and the runner."""
    cfg = Config.fromfile(str(DEMO))
    cfg.merge_from_dict({**dict(model_options),
        'model.backbone.arch.embed_dims': 64, 'model.backbone.arch.depth': 2,
        'model.neck.in_channels': 64, 'model.decode_head.in_channels': [64] * 4,
        'model.auxiliary_head.in_channels': 64,
        'train_dataloader.batch_size': 2, 'train_dataloader.num_workers': 0,
        'train_cfg.max_iters': 3, 'train_cfg.val_interval': 100,
        'default_hooks.checkpoint.interval': 3,
        'param_scheduler': [dict(type='ConstantLR', factor=1.0, by_epoch=False)]})
    cfg.train_dataloader.dataset.data_root = str(data_root)
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.test_dataloader = cfg.test_cfg = cfg.test_evaluator = None
    cfg.update(work_dir=str(work), experiment_name=name, **extra)
    runner = RUNNERS.build(cfg)
    runner.train()
    losses, _ = runner.message_hub.get_scalar('train/loss').data
    return list(losses), runner


def test_compiled_backbone_trains_like_eager(synthetic_root, tmp_path):
    """Compiled and gradient-checkpointed (the neck's batch norm included), the losses
    and the batch norms' running statistics of eager training without checkpointing."""
    torch._dynamo.reset()
    data = synthetic_root / 'ade20k'
    eager, eager_runner = train_demo(data, tmp_path / 'eager', 'eager')
    compiled, runner = train_demo(
        data, tmp_path / 'compiled', 'compiled',
        model_options={'model.backbone.with_cp': True, 'model.neck.with_cp': True},
        compile=dict(modules=['backbone', 'neck'], fullgraph=True))
    backbone = runner.model.backbone
    assert backbone._compiled_call_impl is not None  # it ran compiled
    assert runner.model.neck._compiled_call_impl is not None
    assert len(eager) == len(compiled) == 3
    assert all(abs(a - b) <= 1e-4 * abs(a) for a, b in zip(eager, compiled)), (eager, compiled)
    # Updated once per step, as in eager training (twice would put the running mean
    # about 70 % further from its start); the weights differ by float rounding.
    norm, eager_norm = runner.model.neck.fpn1[1], eager_runner.model.neck.fpn1[1]
    assert norm.num_batches_tracked == eager_norm.num_batches_tracked == 3
    for name, start in (('running_mean', 0.0), ('running_var', 1.0)):
        value, expected = getattr(norm, name), getattr(eager_norm, name)
        assert (value - expected).norm() < 0.05 * (expected - start).norm(), name
    saved = torch.load(tmp_path / 'compiled' / 'iter_3.pth', map_location='cpu',
                       weights_only=False)['state_dict']
    assert 'backbone.blocks.0.gamma_1' in saved and not any('_orig_mod' in k for k in saved)
