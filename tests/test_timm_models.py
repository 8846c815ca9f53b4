"""PatchConvNet in timm's registry: ``timm.create_model`` builds the project's model
(same parameters and logits as backbone + head of the config), loads converted and
official checkpoints through ``pretrained_cfg``, and has timm's feature interface."""
import json

import pytest
import timm
import torch

import mmvision_ext  # noqa: F401  (registers the timm models)
from mmvision_ext.apis import init_model
from mmvision_ext.converters import build_classifier
from mmvision_ext.models.timm_models import PATCHCONVNET_ARCHS
from mmvision_ext.registry import MODELS

from conftest import run_tool
from test_converters import to_official


def _filled(model, seed):
    """``model`` (built on the meta device) with storage and seeded random weights."""
    model.to_empty(device='cpu')
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.05)
        for name, b in model.named_buffers():
            b.zero_() if 'mean' in name else b.fill_(1)
    return model.eval()


def test_names_do_not_clash_with_timm():
    from timm.models._registry import _model_to_module
    names = [f'patchconvnet_{a}_{s}' for a in PATCHCONVNET_ARCHS for s in (224, 384)]
    assert set(names) <= set(timm.list_models('patchconvnet*'))
    assert {_model_to_module[n] for n in names} == {'timm_models'}  # ours, not timm's


@pytest.mark.parametrize('arch', PATCHCONVNET_ARCHS)
def test_create_model_equals_the_config_model(arch):
    """Every variant: timm's model has the config's parameters, name for name and shape
    for shape (on the meta device); S60 also the same logits with the same weights (the
    variants differ in widths and depth only, which the shapes cover)."""
    with torch.device('meta'):
        ours = init_model(f'cls_patchconvnet_{arch}_in1k', device='meta')
        theirs = timm.create_model(f'patchconvnet_{arch}_224')
    assert {k: v.shape for k, v in theirs.state_dict().items()} == \
        {k: v.shape for k, v in ours.state_dict().items()}
    if arch != 's60':
        return
    ours = _filled(ours, seed=0)
    theirs.to_empty(device='cpu')
    theirs.load_state_dict(ours.state_dict())
    theirs.eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        expected = ours(x, mode='tensor')
        assert torch.equal(theirs(x), expected)
        feats = theirs.forward_features(x)
        assert feats.shape == (2, 16, ours.backbone.embed_dims)
        assert torch.equal(theirs.forward_head(feats), expected)
        assert theirs.forward_head(feats, pre_logits=True).shape == (2, ours.backbone.embed_dims)


def runner_checkpoint(model):
    """A checkpoint as MMEngine's runner writes it: besides the weights, the message hub
    (its HistoryBuffer) and numpy scalars, which plain ``weights_only=True`` refuses."""
    import numpy as np
    from mmengine.logging import MessageHub
    hub = MessageHub('timm_ckpt')
    for v in (2.3, 2.1):
        hub.update_scalar('train/loss', np.float64(v))
    hub.update_info('iter', 10)
    return {'meta': dict(epoch=1, iter=10, seed=np.int64(0), mmengine_version='0.10.7',
                         dataset_meta=dict(classes=[str(i) for i in range(1000)])),
            'state_dict': model.state_dict(), 'message_hub': hub.state_dict()}


@pytest.fixture(scope='module')
def s60_weights(tmp_path_factory):
    """An S60 classifier with random weights, saved in the project's layout and in the
    official release's layout."""
    torch.manual_seed(0)
    model = build_classifier(dict(family='patchconvnet', arch='s60', num_classes=1000)).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.02)
    root = tmp_path_factory.mktemp('timm_ckpt')
    ours, official = root / 'patchconvnet_s60_in1k.pth', root / 'S60.pth'
    torch.save(runner_checkpoint(model), ours)
    torch.save(to_official(model, 'patchconvnet'), official)
    return model, ours, official


@pytest.mark.parametrize('layout', ['converted', 'official'])
def test_pretrained_file_loads_through_timm(s60_weights, layout):
    model, ours, official = s60_weights
    path = ours if layout == 'converted' else official
    net = timm.create_model('patchconvnet_s60_224', pretrained=True,
                            pretrained_cfg_overlay=dict(file=str(path))).eval()
    x = torch.randn(2, 3, 96, 128)
    with torch.no_grad():
        assert torch.equal(net(x), model(x, mode='tensor'))
    # Another number of classes: the trunk and pooling load, the classifier is new.
    net10 = timm.create_model('patchconvnet_s60_224', pretrained=True, num_classes=10,
                              pretrained_cfg_overlay=dict(file=str(path))).eval()
    assert net10.get_classifier().out_features == 10
    with torch.no_grad():
        assert torch.equal(net10.forward_head(net10.forward_features(x), pre_logits=True),
                           model.head.pre_logits(model.backbone(x)))


def test_features_only_and_intermediates(s60_weights):
    model, ours, _ = s60_weights
    net = timm.create_model('patchconvnet_s60_224', features_only=True, out_indices=(1, 59),
                            pretrained=True, pretrained_cfg_overlay=dict(file=str(ours))).eval()
    assert [f['num_chs'] for f in net.feature_info.get_dicts()] == [384, 384]
    assert net.feature_info.reduction() == [16, 16]
    x = torch.randn(1, 3, 64, 96)
    # The expected maps come from the config's backbone asked for those blocks.
    backbone = MODELS.build(dict(type='PatchConvNet', arch='s60', out_indices=(1, 59)))
    backbone.load_state_dict(model.backbone.state_dict())
    with torch.no_grad():
        feats = net(x)
        expected = backbone.eval()(x)
        final, maps = net.model.forward_intermediates(x, indices=[1, 59])
        tokens = model.backbone(x)[-1]
    assert [f.shape for f in feats] == [(1, 384, 4, 6)] * 2
    for f, m, e in zip(feats, maps, expected):
        # Another module instance: the same maps up to float rounding of the layout.
        assert torch.equal(f, m) and torch.allclose(f, e, atol=1e-6, rtol=0)
    assert torch.equal(final, tokens)  # timm's convention: the last tokens, not logits
    # A features-only model keeps the blocks it needs and no classifier.
    net2 = timm.create_model('patchconvnet_s60_224', features_only=True, out_indices=(2,))
    assert len(net2.model.backbone.blocks) == 3


def test_pruned_model_runs_and_out_of_range_blocks_are_refused():
    """After timm's prune_intermediate_layers the model runs on the blocks it kept; a
    block index out of range is an error, as in timm, not another block."""
    net = timm.create_model('patchconvnet_s60_224', num_classes=10).eval()
    x = torch.randn(1, 3, 64, 64)
    with pytest.raises(ValueError, match='out of range'):
        net.forward_intermediates(x, indices=[60])
    assert net.prune_intermediate_layers(indices=[10]) == [10]
    assert len(net.backbone.blocks) == len(net.feature_info) == 11
    with torch.no_grad():
        block10, = net.forward_intermediates(x, indices=[-1], intermediates_only=True,
                                             output_fmt='NHWC')
        assert torch.equal(net.forward_features(x), block10.flatten(1, 2))
        assert net(x).shape == (1, 384)  # the head pruned: pooled features
    with pytest.raises(ValueError, match='out of range'):
        net.forward_intermediates(x, indices=[11])


def test_init_model_refuses_a_checkpoint_of_another_model(s60_weights):
    """Inference tools load through init_model: a checkpoint of another number of classes
    or another model is one clear error, not mmengine's warning and random weights."""
    from mmvision_ext.errors import UserError
    _, ours, _ = s60_weights
    model = init_model('cls_patchconvnet_s60_in1k', ours)
    assert model.dataset_meta['classes'][:2] == ['0', '1']
    with pytest.raises(UserError, match='num_classes'):
        init_model('cls_patchconvnet_s60_in1k', ours, cfg_options={'model.head.num_classes': 10})
    with pytest.raises(UserError, match='lacks'):
        init_model('cls_deit3_s_in1k', ours)
    # Same keys, other widths: not taken for a matter of classes.
    with pytest.raises(UserError, match=r'another model or variant: layer widths differ\)'):
        init_model('cls_patchconvnet_b60_in1k', ours)


def test_gpu_report_rows_and_reasons(tmp_path):
    """tools/analysis/gpu_report.py (here on the CPU): a measured row carries both
    throughputs, their ratio and the logit check against timm; a row that cannot run is
    written with its reason; ``--only`` re-measures some rows and keeps the others."""
    out = tmp_path / 'report'
    run_tool('tools/analysis/gpu_report.py', '--device', 'cpu', '--quick', '--rounds', '1',
             '--only', 'resmlp_s24 inference eager', '--out', out)
    rows = json.loads((out / 'gpu_report.json').read_text())['rows']
    assert [r['row'] for r in rows] == ['resmlp_s24 inference eager']
    row = rows[0]
    assert row['ours_img_s'] > 0 and row['ref_img_s'] > 0
    assert row['ratio'] == pytest.approx(row['ours_img_s'] / row['ref_img_s'], rel=0.05)
    assert 'max fp32 logit diff 0.0e+00' in row['note'], row['note']

    run_tool('tools/analysis/gpu_report.py', '--device', 'cpu', '--quick', '--budget-s', '0',
             '--only', 'deit3_b train compiled', '--out', out)
    data = json.loads((out / 'gpu_report.json').read_text())
    rows = {r['row']: r for r in data['rows']}
    assert set(rows) == {'resmlp_s24 inference eager', 'deit3_b train compiled'}
    assert rows['resmlp_s24 inference eager'] == row
    assert 'skipped' in rows['deit3_b train compiled']['not_run']
    table = (out / 'gpu_report.md').read_text()
    assert '| deit3_b train compiled |' in table and 'not run: skipped' in table
