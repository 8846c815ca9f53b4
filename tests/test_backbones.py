"""Backbones and heads: fidelity to timm and to the thesis' tables, dense mode,
fine-tuning options and clear errors."""
import json
import math
import re

import pytest
import timm
import torch
import torch.nn as nn

import mmvision_ext  # noqa: F401
from conftest import ROOT, assert_tensors_close, load_tool, run_tool, saved_activation_bytes
from mmvision_ext.analysis import count_flops, count_params, tensor_forward
from mmvision_ext.apis import get_pooling_attention, init_model
from mmvision_ext.benchmark import timm_pair
from mmvision_ext.converters import build_classifier, convert_checkpoint
from mmvision_ext.models.backbones import CaiT, DeiT3ViT, DeiTViT, PatchConvNet, ResMLP
from mmvision_ext.models.heads import ClassAttentionClsHead
from mmvision_ext.models.layers import DropPath, layer_scale_residual
from thesis_figures import BACKBONES, RESMLP_S12_ABLATIONS


def _info(family, arch, num_classes=1000, **kw):
    return dict(family=family, arch=arch, num_classes=num_classes, img_size=224,
                distilled=False, multi_token=False) | kw


# --- thesis tables ----------------------------------------------------------------
THESIS_ROWS = [row[:4] for row in BACKBONES]
# CaiT-M24/M36: parameters match, but the table's GFLOPs are 0.5% above both our count
# and the closed form (24 SA blocks of 3C^2N + C^2N + 8C^2N + 2N^2C + 2H^2N^2 + norms,
# the stem and two CA blocks: 35.81 G for M24), more than the 0.1 G tolerance.
FLOPS_ABOVE_CLOSED_FORM = {('cait', 'm24'), ('cait', 'm36')}


def _thesis_param(row):
    marks = []
    if row[:2] in FLOPS_ABOVE_CLOSED_FORM:
        marks.append(pytest.mark.xfail(strict=True, reason='thesis GFLOPs 0.5% above closed form'))
    return pytest.param(*row, id=f'{row[0]}_{row[1]}', marks=marks)


def _tolerance(figure):  # 0.1 for figures given to one decimal, 0.5 for whole numbers
    return 0.1 + 1e-9 if '.' in figure else 0.5


@pytest.mark.parametrize('family,variant,params_m,gflops',
                         [pytest.param(*r, id=f'{r[0]}_{r[1]}') for r in THESIS_ROWS if r[2]])
def test_params_match_the_thesis(family, variant, params_m, gflops):
    """Built from the shipped cls config, with its 1000-class head."""
    model = init_model(ROOT / f'configs/cls_{family}_{variant}_in1k.py', device='meta')
    assert abs(count_params(model) / 1e6 - float(params_m)) <= _tolerance(params_m)


@pytest.mark.parametrize('family,variant,params_m,gflops', [_thesis_param(r) for r in THESIS_ROWS if r[3]])
def test_flops_match_the_thesis(family, variant, params_m, gflops):
    """Multiply-accumulates at 224x224 of the shipped cls config."""
    # Uninitialised weights: FLOPs depend on the shapes only.
    model = init_model(ROOT / f'configs/cls_{family}_{variant}_in1k.py', device='meta')
    model = model.to_empty(device='cpu')
    with torch.no_grad():
        flops = count_flops(tensor_forward(model, (224, 224)), (torch.zeros(1, 3, 224, 224),))
    assert abs(flops / 1e9 - float(gflops)) <= _tolerance(gflops)


@pytest.mark.parametrize('option,value', list(RESMLP_S12_ABLATIONS))
def test_resmlp_ablations_match_table_4_3(option, value):
    """ResMLP-S12 with each ablation of Table 4.3 (LayerNorm for Affine; no, MLP,
    convolutional patch communication): the table's params and FLOPs; and it trains."""
    params_m, gflops = RESMLP_S12_ABLATIONS[(option, value)]
    model = init_model(ROOT / 'configs/cls_resmlp_s12_in1k.py',
                       cfg_options={f'model.backbone.{option}': value})
    assert abs(count_params(model) / 1e6 - float(params_m)) <= _tolerance(params_m)
    with torch.no_grad():
        flops = count_flops(tensor_forward(model, (224, 224)), (torch.zeros(1, 3, 224, 224),))
    assert abs(flops / 1e9 - float(gflops)) <= _tolerance(gflops)
    model.train()
    model(torch.randn(2, 3, 224, 224), mode='tensor').square().mean().backward()
    grads = [p.grad for p in model.backbone.blocks[0].parameters()]
    assert all(g is not None and g.abs().sum() > 0 for g in grads)


# --- logits equal to timm's ---------------------------------------------------------
@pytest.mark.parametrize('timm_name,arch', [
    ('deit3_small_patch16_224', 's'),
    ('cait_xxs24_224', 'xxs24'),
    ('resmlp_12_224', 's12'),
    ('deit_small_distilled_patch16_224', 's'),
    ('deit_tiny_patch16_224', 't'),
])
def test_logits_equal_timm_after_conversion(timm_name, arch):
    torch.manual_seed(0)
    ref = timm.create_model(timm_name, pretrained=False).eval()
    with torch.no_grad():  # move LayerScale etc. away from their init so all paths matter
        for p in ref.parameters():
            p.add_(torch.randn_like(p) * 0.02)
    state_dict, info = convert_checkpoint(ref.state_dict())
    assert info['arch'] == arch
    ours = build_classifier(info).eval()
    ours.load_state_dict(state_dict, strict=True)
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        diff = (ref(x) - ours(x, mode='tensor')).abs().max().item()
    assert diff < 1e-4


# --- dense mode ---------------------------------------------------------------------
DENSE = [
    (DeiT3ViT, dict(arch='t'), (3, 5, 7, 11), 192),
    (DeiTViT, dict(arch='t', distilled=True), (3, 11), 192),
    (CaiT, dict(arch='xxs24'), (7, 11, 15, 23), 192),
    (PatchConvNet, dict(arch='s60'), (59,), 384),
    (PatchConvNet, dict(arch='s20', stem='linear'), (19,), 384),
]


@pytest.mark.parametrize('cls,kwargs,out_indices,dim', DENSE,
                         ids=[d[0].__name__ + '-' + d[1]['arch'] for d in DENSE])
@pytest.mark.parametrize('hw', [(512, 512), (512, 683), (640, 640)])
def test_dense_maps_for_any_size(cls, kwargs, out_indices, dim, hw):
    model = cls(**kwargs, out_indices=out_indices).eval()
    with torch.no_grad():
        outs = model(torch.randn(1, 3, *hw))
    expected = (1, dim, math.ceil(hw[0] / 16), math.ceil(hw[1] / 16))
    assert [tuple(o.shape) for o in outs] == [expected] * len(out_indices)


def test_only_the_linear_stem_pads():
    """The linear stem pads to a multiple of 16 (as ViT); the convolutional stem, whose
    padded stride-2 convolutions already give the ceil(H/16) grid, sees the image as it is,
    as the official one does."""
    x = torch.randn(1, 3, 40, 56)
    conv = PatchConvNet(arch='s20').patch_embed
    linear = PatchConvNet(arch='s20', stem='linear').patch_embed
    with torch.no_grad():
        assert torch.equal(conv(x), conv.proj(x))
        assert linear(x).shape[-2:] == conv(x).shape[-2:] == (3, 4)


def test_vit_pos_embed_is_resized_not_ignored():
    """At another size the (bicubically resized) position embedding still matters."""
    model = DeiT3ViT(arch='t', out_indices=(11,)).eval()
    x = torch.randn(1, 3, 320, 256)
    with torch.no_grad():
        a = model(x)[0]
        model.pos_embed.add_(1.0)
        b = model(x)[0]
    assert a.shape == (1, 192, 20, 16) and not torch.allclose(a, b)


@pytest.mark.parametrize('cls, kwargs', [(DeiTViT, dict(arch='t', distilled=True)),
                                         (DeiT3ViT, dict(arch='t')), (CaiT, dict(arch='xxs24'))])
def test_224_weights_load_into_a_384_model(cls, kwargs):
    """Fine-tuning at 384 starts from 224 weights: the position-embedding grid is resized
    bicubically on load (prefix rows kept), giving the 224 model's own run-time resize."""
    small = cls(img_size=224, out_type='tokens', **kwargs).eval()
    large = cls(img_size=384, out_type='tokens', **kwargs).eval()
    large.load_state_dict(small.state_dict())
    assert large.pos_embed.shape[1] == small.pos_embed.shape[1] - 14 * 14 + 24 * 24
    x = torch.randn(1, 3, 384, 384)
    with torch.no_grad():
        assert torch.allclose(small(x)[-1], large(x)[-1], atol=1e-5)


def test_patchconvnet_refuses_a_patch_size_its_stem_does_not_have():
    with pytest.raises(ValueError, match='stride 16'):
        PatchConvNet(arch=dict(patch_size=8, embed_dims=64, depth=2, layer_scale_init=1e-4))


def test_resmlp_wrong_size_error_says_what_it_needs():
    model = ResMLP(arch='s12')
    with pytest.raises(ValueError, match=r'224x224') as e:
        model(torch.randn(1, 3, 512, 512))
    assert 'slide' in str(e.value) and '512x512' in str(e.value)


def test_deit_without_layer_scale_refuses_its_init():
    with pytest.raises(ValueError, match='DeiTViT has no LayerScale'):
        DeiTViT(arch='t', layer_scale_init=1e-4)


def test_unknown_variant_lists_the_choices():
    with pytest.raises(ValueError, match=r"unknown variant 'xl'.*s20, s36, s60, s120, b36, b60"):
        PatchConvNet(arch='xl')


def test_patchconvnet_channels_last_trunk_matches_the_official_formulation():
    """Our (B, H, W, C) trunk against the official formulation (tokens, reshaped to NCHW
    around plain NCHW convolutions, LayerNorm on tokens) that
    tools/analysis/compare_patchconvnet.py times it against, on a non-square input."""
    tool = load_tool('tools/analysis/compare_patchconvnet.py')
    torch.manual_seed(0)
    model = PatchConvNet(arch=dict(patch_size=16, embed_dims=384, depth=4,
                                   layer_scale_init=0.5), out_type='tokens').eval()
    x = torch.randn(2, 3, 96, 160)
    with torch.no_grad():
        ours = model(x)[0]
        official = tool['OfficialFormulation'](model)(x)
        # On the CPU the 1x1 convolutions run as convolutions; elsewhere as this matmul.
        pw, y = model.blocks[0].attn.qkv_pos[0], torch.randn(2, 6, 10, 384)
        assert torch.allclose(pw(y), nn.functional.linear(y, pw.weight.flatten(1), pw.bias),
                              atol=1e-5)
    assert ours.shape == (2, 6 * 10, 384)
    assert torch.allclose(ours, official, atol=1e-5)
    out = run_tool('tools/analysis/compare_patchconvnet.py', '--arch', 's20',
                   '--batch-size', '2', '--img-size', '64', '--rounds', '1').stdout
    report = json.loads(out.splitlines()[-1])
    assert report['max_abs_diff'] < 1e-4
    assert all(isinstance(report[f'{side}_page_faults'], int) for side in ('ours', 'reference'))


@pytest.mark.parametrize('cls,kwargs', [
    (DeiT3ViT, dict(arch='t', img_size=64)), (CaiT, dict(arch='xxs24', img_size=64)),
    (ResMLP, dict(arch='s12', img_size=64)),
    (PatchConvNet, dict(arch=dict(patch_size=16, embed_dims=64, depth=3, layer_scale_init=0.5)))])
def test_in_place_activations_compute_what_training_computes(cls, kwargs):
    """Without gradients the GELUs (and PatchConvNet's SE gate) overwrite their inputs:
    the same output as the autograd path, which does not, and the caller's images left
    as they were."""
    torch.manual_seed(0)
    model = cls(out_type='featmap', **kwargs).eval()
    with torch.no_grad():  # LayerScale at 1, so that every activation shows in the output
        for name, param in model.named_parameters():
            if name.split('.')[-1].startswith('gamma'):
                param.fill_(1.)
    x = torch.randn(2, 3, 64, 64)
    images = x.clone()
    with torch.no_grad():
        in_place = model(x)[0]
    autograd = model(x)[0]
    assert autograd.requires_grad
    assert torch.allclose(in_place, autograd.detach(), atol=1e-6)
    assert torch.equal(x, images)


@pytest.mark.parametrize('with_layer_scale', [True, False])
@pytest.mark.parametrize('shape', [(8, 5, 6), (8, 3, 4, 6)], ids=['tokens', 'map'])
def test_stochastic_depth_folded_into_layer_scale_is_timms_drop_path(with_layer_scale, shape):
    """The per-sample keep factor multiplies LayerScale instead of the branch: with the
    same random draws, the output and the gradients of ``x + DropPath(gamma * y)``, whole
    samples dropped, the others rescaled."""
    drop_path = DropPath(0.5).train()
    x, y = torch.randn(shape, requires_grad=True), torch.randn(shape, requires_grad=True)
    gamma = torch.rand(shape[-1], requires_grad=True) if with_layer_scale else None
    inputs = [x, y] + [gamma] * with_layer_scale
    torch.manual_seed(1)
    ours = layer_scale_residual(x, gamma, y, drop_path)
    torch.manual_seed(1)
    timms = x + drop_path(y if gamma is None else gamma * y)
    assert torch.allclose(ours, timms, atol=1e-6)
    weights = torch.randn(shape)
    for ours_grad, timm_grad in zip(torch.autograd.grad((ours * weights).sum(), inputs),
                                    torch.autograd.grad((timms * weights).sum(), inputs)):
        assert torch.allclose(ours_grad, timm_grad, atol=1e-5)
    dropped = (ours == x).flatten(1).all(1)
    assert 0 < dropped.sum() < len(dropped)
    assert torch.allclose(layer_scale_residual(x, gamma, y, drop_path.eval()),
                          x + (y if gamma is None else gamma * y), atol=1e-6)


def test_timm_pair_gives_both_the_same_stochastic_depth():
    """compare_timm.py and gpu_report.py time ours beside timm's with the same stochastic
    depth, by default none, timm's default (our CaiT-XXS24 recipe has 0.05): in training
    mode, with no dropout either, both compute the same logits."""
    ours, ref, diff = timm_pair('cait_xxs24_224')
    assert diff < 1e-4
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        assert torch.allclose(ours.train()(x), ref.train()(x), atol=1e-4)
    ours, _, _ = timm_pair('cait_xxs24_224', drop_path_rate=0.1)
    assert {m.drop_prob for m in ours.modules() if isinstance(m, DropPath)} == {0.1}


def test_patchconvnet_stem_runs_a_few_images_at_a_time_without_gradients():
    """On the CPU, without gradients, the stem runs on chunks whose first map fits
    ``chunk_bytes``: the output of the whole batch at once."""
    torch.manual_seed(0)
    model = PatchConvNet(arch=dict(patch_size=16, embed_dims=64, depth=1,
                                   layer_scale_init=0.5)).eval()
    model.patch_embed.chunk_bytes = 2 * 8 * 32 * 48 * 4  # the first map of two images
    chunks = []
    model.patch_embed.proj.register_forward_pre_hook(lambda _, args: chunks.append(len(args[0])))
    x = torch.randn(5, 3, 64, 96)
    with torch.no_grad():
        chunked = model(x)[0]
    assert chunks == [2, 2, 1]
    chunks.clear()
    whole = model(x)[0]
    assert chunks == [5]
    assert torch.allclose(chunked, whole.detach(), atol=1e-6)
    with torch.no_grad():
        assert model(x[:0])[0].shape == (0, 64, 4, 6)


def test_patchconvnet_batch_norm_stays_on_the_channels_under_sync_bn():
    """``sync_bn`` (mmengine's convert_sync_batchnorm, as the runner and the FSDP
    strategy apply it) swaps the BN variant's norms for SyncBatchNorm: they still
    normalise the channels, with the same statistics."""
    from mmengine.model import convert_sync_batchnorm
    torch.manual_seed(0)
    model = PatchConvNet(arch=dict(patch_size=16, embed_dims=32, depth=2, layer_scale_init=0.5),
                         norm='BN').eval()
    for norm in (b.norm1 for b in model.blocks):
        norm.running_mean.uniform_(-1, 1)
        norm.running_var.uniform_(0.5, 2)
    x = torch.randn(2, 3, 64, 96)
    with torch.no_grad():
        before = model(x)[0]
        synced = convert_sync_batchnorm(model).eval()
        assert isinstance(synced.blocks[0].norm1, nn.SyncBatchNorm)
        assert torch.allclose(synced(x)[0], before, atol=1e-6)


def test_minor_page_faults_counts_memory_touched_for_the_first_time():
    """What compare_patchconvnet.py reports beside its timings: a step that writes into
    64 MiB of new anonymous memory faults once per 4 KiB page; one that only reads a
    tensor allocated before does not."""
    import mmap

    from mmvision_ext.benchmark import minor_page_faults

    def touch_new_pages(size=2**26):
        with mmap.mmap(-1, size) as m:
            m.madvise(mmap.MADV_NOHUGEPAGE)  # 4 KiB pages even where THP is always on
            for offset in range(0, size, 4096):
                m[offset] = 1
    held = torch.ones(2**20)
    assert minor_page_faults(touch_new_pages) >= 2**26 // 4096
    assert minor_page_faults(lambda: held.sum()) < 100


def test_every_submodule_of_a_block_is_run():
    """No module that forward bypasses: hooking ResMLP's norm1, CaiT's head mixing or
    the multi-token head's classifier, or replacing PatchConvNet's GELU, changes the
    output (with weights folded or read by another module, none would)."""
    torch.manual_seed(0)
    resmlp = ResMLP(arch=dict(patch_size=16, embed_dims=64, depth=2, layer_scale_init=0.5),
                    out_type='tokens').eval()
    pcn = PatchConvNet(arch=dict(patch_size=16, embed_dims=64, depth=2, layer_scale_init=0.5),
                       out_type='tokens').eval()
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        before = resmlp(x)[0]
        handle = resmlp.blocks[0].norm1.register_forward_hook(lambda m, i, out: out * 2)
        hooked = resmlp(x)[0]
        handle.remove()
        assert not torch.allclose(before, hooked)
        assert torch.equal(before, resmlp(x)[0])
        for name in ('norm2', 'mlp', 'attn'):
            handle = getattr(resmlp.blocks[1], name).register_forward_hook(
                lambda m, i, out: out + 1)
            assert not torch.allclose(before, resmlp(x)[0]), name
            handle.remove()

        before = pcn(x)[0]
        pcn.blocks[0].attn.qkv_pos[1] = nn.ReLU()
        with_relu = pcn(x)[0]
        assert not torch.allclose(before, with_relu)
        handle = pcn.blocks[1].attn.qkv_pos[4].conv_reduce.register_forward_hook(
            lambda m, i, out: out * 3)
        assert not torch.allclose(with_relu, pcn(x)[0])
        handle.remove()

        cait = CaiT(arch=dict(patch_size=16, embed_dims=64, depth=1, num_heads=2,
                              layer_scale_init=0.5), out_type='tokens').eval()
        before = cait(x)[0]
        for name in ('proj_l', 'proj_w'):
            handle = getattr(cait.blocks[0].attn, name).register_forward_hook(
                lambda m, i, out: out * 2)
            assert not torch.allclose(before, cait(x)[0]), name
            handle.remove()

        head = ClassAttentionClsHead(num_classes=3, in_channels=64, multi_token=True).eval()
        tokens = (torch.randn(1, 196, 64),)
        before = head(tokens)
        handle = head.head.register_forward_hook(lambda m, i, out: out + 1)
        assert torch.allclose(head(tokens), before + 1)
        handle.remove()


# mmengine's DDP wrapper does not look for unused parameters (find_unused_parameters is
# False unless a config sets it): one trainable parameter that no output depends on
# stops distributed training at its second iteration.
DENSE_CONFIGS = sorted(p.name for p in (ROOT / 'configs').glob('*.py')
                       if p.name.startswith(('upernet_', 'mask_rcnn_')))


@pytest.mark.parametrize('config', DENSE_CONFIGS)
def test_every_trainable_parameter_of_a_dense_backbone_gets_a_gradient(config):
    """Each dense config's backbone, at its depth and out_indices (32 channels wide),
    gives every trainable parameter a gradient."""
    from mmengine.config import Config

    from mmvision_ext.registry import MODELS
    cfg = Config.fromfile(str(ROOT / 'configs' / config)).model.backbone.to_dict()
    cfg.pop('init_cfg', None)
    cls = MODELS.get(cfg['type'])
    arch = cls.get_arch(cfg['arch'])
    arch.update(embed_dims=32, **({'num_heads': 2} if 'num_heads' in arch else {}))
    backbone = MODELS.build(dict(cfg, arch=arch)).train()
    sum(out.mean() for out in backbone(torch.randn(1, 3, 224, 224))).backward()
    unused = [n for n, p in backbone.named_parameters() if p.requires_grad and p.grad is None]
    assert not unused, unused


# --- fine-tuning options --------------------------------------------------------------
def test_frozen_stages_freeze_embedding_and_first_blocks():
    model = DeiT3ViT(arch='t', frozen_stages=2)
    model.train()
    frozen = {n for n, p in model.named_parameters() if not p.requires_grad}
    assert {'cls_token', 'pos_embed', 'patch_embed.proj.weight'} <= frozen
    assert any(n.startswith('blocks.1.') for n in frozen)
    assert not any(n.startswith('blocks.2.') for n in frozen)
    bn = PatchConvNet(arch='s60', norm='BN', frozen_stages=1).train()
    assert not bn.blocks[0].norm1.training and bn.blocks[1].norm1.training
    # Everything frozen but the final norm: the embedding's dropout is off too, so the
    # frozen part gives the same features at every step.
    model = DeiT3ViT(arch='t', frozen_stages=12, drop_rate=0.1, out_type='tokens').train()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(model(x)[0], model(x)[0])
    assert not CaiT(arch='xxs24', frozen_stages=0).train().pos_drop.training


@pytest.mark.parametrize('cls,kwargs', [(DeiT3ViT, dict(arch='t')), (CaiT, dict(arch='xxs24')),
                                        (PatchConvNet, dict(arch='s60')),
                                        (ResMLP, dict(arch='s12'))])
def test_gradient_checkpointing_keeps_the_gradients_and_drops_the_activations(cls, kwargs):
    torch.manual_seed(0)
    size = 224 if cls is ResMLP else 64
    x = torch.randn(2, 3, size, size)
    grads, kept = [], []
    for with_cp in (False, True):
        torch.manual_seed(1)
        model = cls(**kwargs, out_indices=(3,), with_cp=with_cp).train()
        out, nbytes = saved_activation_bytes(lambda: model(x)[0], model)
        out.square().mean().backward()
        grads.append({n: p.grad for n, p in model.named_parameters() if p.grad is not None})
        kept.append(nbytes)
    assert_tensors_close(grads[0], grads[1], atol=1e-6)
    # What is kept is the input of each block (and of PatchConvNet's stem, whose maps
    # are larger than the trunk's): about a tenth of the activations of these blocks.
    assert kept[1] < 0.15 * kept[0], kept


def test_checkpointed_batch_norms_update_their_statistics_once():
    """PatchConvNet with BatchNorm (Table 5.8): with gradient checkpointing the running
    statistics end as without it, also when the graph is backpropagated twice."""
    x = torch.randn(2, 3, 64, 64)
    states = []
    for with_cp in (False, True):
        torch.manual_seed(1)
        model = PatchConvNet(arch='s20', norm='BN', out_indices=(3,), with_cp=with_cp).train()
        loss = model(x)[0].square().mean()
        loss.backward(retain_graph=True)
        loss.backward()
        states.append(model.state_dict())
    assert states[1]['blocks.0.norm1.num_batches_tracked'] == 1
    assert_tensors_close(states[0], states[1], atol=1e-6)


def test_layer_ids_for_layer_decay():
    model = CaiT(arch='xxs24')
    assert model.get_layer_depth('backbone.pos_embed', 'backbone.') == (0, 26)
    assert model.get_layer_depth('backbone.patch_embed.proj.weight', 'backbone.') == (0, 26)
    assert model.get_layer_depth('backbone.blocks.4.attn.qkv.weight', 'backbone.') == (5, 26)
    assert model.get_layer_depth('head.blocks_token_only.0.attn.q.weight', 'backbone.') == (25, 26)


def test_pretrained_init_cfg_loads_converted_weights(tmp_path):
    ref = timm.create_model('deit3_small_patch16_224', pretrained=False)
    sd, info = convert_checkpoint(ref.state_dict())
    path = tmp_path / 'deit3_s.pth'
    torch.save(dict(state_dict=sd, meta=dict(mmvx=info)), path)
    model = DeiT3ViT(arch='s', init_cfg=dict(type='Pretrained', checkpoint=str(path),
                                             prefix='backbone.'))
    model.init_weights()
    assert torch.equal(model.blocks[3].attn.qkv.weight, ref.blocks[3].attn.qkv.weight)
    assert torch.equal(model.pos_embed, ref.pos_embed)


# --- heads and attention maps -------------------------------------------------------------
def test_distilled_head_fuses_late_and_trains_both():
    model = build_classifier(_info('deit', 't', 10, distilled=True)).eval()
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        feats = model.backbone(x)
        a, b = model.head.forward_both(feats)
        assert torch.allclose(model(x, mode='tensor'), (a + b) / 2)
    from mmpretrain.structures import DataSample
    samples = [DataSample().set_gt_label(i) for i in (1, 2)]
    model.train()
    model(x, samples, mode='loss')['loss'].backward()
    assert model.head.head.weight.grad.abs().sum() > 0
    assert model.head.head_dist.weight.grad.abs().sum() > 0


@pytest.mark.parametrize('family,arch,heads', [('cait', 'xxs24', 4), ('patchconvnet', 's60', 1)])
def test_pooling_attention_maps(family, arch, heads):
    model = build_classifier(_info(family, arch, 10)).eval()
    maps = get_pooling_attention(model, torch.randn(2, 3, 96, 128))
    assert maps.shape == (2, heads, 6, 8)
    # Softmax over [cls, patches]: the patch part is a sub-distribution.
    total = maps.flatten(2).sum(-1)
    assert (maps >= 0).all() and (total <= 1 + 1e-5).all() and (total > 0.5).all()


def test_per_class_tokens_give_per_class_maps():
    model = build_classifier(_info('patchconvnet', 's60', 7, multi_token=True)).eval()
    x = torch.randn(2, 3, 64, 96)
    assert model(x, mode='tensor').shape == (2, 7)
    maps = get_pooling_attention(model, x)
    assert maps.shape == (2, 7, 4, 6)
    assert torch.allclose(maps.flatten(2).sum(-1), torch.ones(2, 7), atol=1e-5)


def test_attention_maps_need_an_attention_head():
    model = build_classifier(_info('resmlp', 's12', 10))
    with pytest.raises(TypeError, match='does not pool by attention'):
        get_pooling_attention(model, torch.randn(1, 3, 224, 224))


def test_every_cls_config_names_its_variant():
    # 224 training configs; the 384 and ImageNet-21k fine-tuning ones and the
    # distillation teacher aside.
    # Other recipes of a variant (DeiT III's 800 epochs, DeiT's soft distillation) are
    # checked beside their variant's config below.
    recipes = ('_800ep_', '_soft_distilled_')
    names = sorted(p.name for p in (ROOT / 'configs').glob('cls_*_in1k.py')
                   if '_384_' not in p.name and 'teacher' not in p.name
                   and 'class_mlp' not in p.name and '_in21k' not in p.name
                   and not any(r in p.name for r in recipes))
    # Distilled 224 models: every DeiT (T3.3), CaiT-Υ but M48, released at 448 only
    # (T3.15), ResMLP S12/S24/B24-p8 (T4.3).
    distilled = {'deit': set(DeiTViT.arch_zoo), 'cait': set(CaiT.arch_zoo) - {'m48'},
                 'resmlp': {'s12', 's24', 'b24p8'}}
    expected = sorted(
        f'cls_{fam}_{arch}{suffix}_in1k.py'
        for fam, cls in (('deit3', DeiT3ViT), ('deit', DeiTViT), ('cait', CaiT),
                         ('resmlp', ResMLP), ('patchconvnet', PatchConvNet))
        for arch in cls.arch_zoo
        for suffix in (('', '_distilled') if arch in distilled.get(fam, ()) else ('',)))
    assert names == expected
    for name in names:
        assert re.fullmatch(r'cls_[a-z0-9]+_[a-z0-9]+(_distilled)?_in1k\.py', name)
    for suffix in ('_384_',) + recipes:
        for p in (ROOT / 'configs').glob(f'cls_*{suffix}in1k.py'):
            assert (ROOT / 'configs' / p.name.replace(suffix, '_')).is_file(), p.name


# --- ResMLP's class-MLP pooling (thesis 4.2, Table 4.3) ------------------------------
def test_class_mlp_resmlp_s12_matches_table_4_3():
    """ResMLP-S12, average pooling -> class-MLP: 17.7 M parameters, 3.0 GFLOPs."""
    model = init_model(ROOT / 'configs/cls_resmlp_s12_class_mlp_in1k.py')
    assert abs(count_params(model) / 1e6 - 17.7) <= 0.05
    flops = count_flops(tensor_forward(model, (224, 224)), (torch.zeros(1, 3, 224, 224),))
    assert abs(flops / 1e9 - 3.0) <= 0.05


def test_class_mlp_head_reads_every_patch_position_and_learns():
    from mmvision_ext.models.heads import ClassMLPClsHead
    torch.manual_seed(0)
    head = ClassMLPClsHead(num_classes=3, in_channels=8, num_patches=6, layer_scale_init=1.)
    patches = torch.randn(12, 6, 8, requires_grad=True)
    logits = head((patches,))
    assert logits.shape == (12, 3)
    # Every patch position reaches the class token, through the aggregation weights.
    logits.sum().backward()
    assert (patches.grad.abs().sum((0, 2)) > 0).all()
    # The aggregation is positional: moving a patch changes the output.
    assert not torch.allclose(head((patches.roll(1, dims=1),)), logits)
    # It can fit labels that depend on which position holds a signal.
    labels = torch.arange(12) % 3
    x = torch.randn(12, 6, 8) * 0.1
    x[torch.arange(12), labels, 0] += 3.
    opt = torch.optim.Adam(head.parameters(), lr=1e-2)
    for _ in range(100):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(head((x,)), labels)
        loss.backward()
        opt.step()
    assert (head((x,)).argmax(1) == labels).all() and loss < 0.05
    with pytest.raises(ValueError, match='built for 6 patch tokens, got 4'):
        head((torch.randn(1, 4, 8),))


def test_patchconvnet_ablations_of_table_5_7_train():
    """PatchConvNet-S60 with Table 5.7's modifications: a linear patch projection in place
    of the convolutional stem (one 16x16 stride-16 convolution: 3*256*384 + 384
    parameters instead of the stem's), and average pooling in place of the
    class-attention head. Both build from the S60 config and take a training step."""
    base = init_model(ROOT / 'configs/cls_patchconvnet_s60_in1k.py', device='meta')
    linear = init_model(ROOT / 'configs/cls_patchconvnet_s60_in1k.py',
                        cfg_options={'model.backbone.stem': 'linear'})
    stem_params = count_params(base.backbone.patch_embed)
    assert count_params(linear.backbone.patch_embed) == 3 * 256 * 384 + 384
    assert count_params(linear) - count_params(base) == 3 * 256 * 384 + 384 - stem_params
    avg_head = dict(_delete_=True, type='TokenPoolClsHead', num_classes=1000,
                    in_channels=384, pool='avg')
    avg = init_model(ROOT / 'configs/cls_patchconvnet_s60_in1k.py',
                     cfg_options={'model.head': avg_head})
    for model in (linear, avg):
        model.train()
        model(torch.randn(2, 3, 64, 64), mode='tensor').square().mean().backward()
        assert model.backbone.blocks[0].gamma_1.grad.abs().sum() > 0
