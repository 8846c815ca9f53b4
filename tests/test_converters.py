"""official2mmvx: official checkpoint layouts of the five families convert, load with no
missing or unexpected keys, and give identical outputs; bad checkpoints fail clearly."""
import collections
import re

import pytest
import timm
import torch

import mmvision_ext  # noqa: F401
from conftest import run_tool
from mmvision_ext.converters import ConversionError, build_classifier, convert_checkpoint, \
    load_checkpoint_file

HEAD_RENAMES = [('head.head_dist.', 'head_dist.'), ('head.head.', 'head.'), ('head.', '')]


def to_official(model, family):
    """Our classifier's weights written in the official release's layout (the layout docs/model_zoo.md describes)."""
    sd = collections.OrderedDict()
    for k, v in model.state_dict().items():
        if k.startswith('backbone.'):
            k = k[len('backbone.'):]
        else:
            for old, new in HEAD_RENAMES:
                if k.startswith(old):
                    k = new + k[len(old):]
                    break
        if family == 'resmlp' and k.endswith(('.alpha', '.beta')):
            v = v.reshape(-1)  # the official Affine stores (dim,)
        sd[k] = v.clone()
    if family == 'patchconvnet' and sd['cls_token'].shape[1] > 1:
        w, b = sd.pop('head.weight'), sd.pop('head.bias')  # per-class Linear(C, 1) units
        for i in range(w.shape[0]):
            sd[f'head.{i}.weight'], sd[f'head.{i}.bias'] = w[i:i + 1], b[i:i + 1]
    if family == 'resmlp':
        return sd  # plain state dict
    if family == 'cait':
        sd = collections.OrderedDict(('module.' + k, v) for k, v in sd.items())
    return {'model': sd}


CASES = [
    ('deit3', dict(arch='t')),
    ('deit', dict(arch='t', distilled=True)),
    ('deit', dict(arch='t')),
    ('cait', dict(arch='xxs24')),
    ('resmlp', dict(arch='s12')),
    ('patchconvnet', dict(arch='s60')),
    ('patchconvnet', dict(arch='s60', multi_token=True, num_classes=5)),
    ('patchconvnet', dict(arch='s60', norm='BN')),
]


def _info(family, arch, num_classes=10, **kw):
    return dict(family=family, arch=arch, num_classes=num_classes, img_size=224,
                distilled=False, multi_token=False) | kw


@pytest.mark.parametrize('family,kw', CASES, ids=[f'{c[0]}-{"-".join(map(str, c[1].values()))}'
                                                  for c in CASES])
def test_official_layout_round_trip(family, kw):
    torch.manual_seed(0)
    info = _info(family, **kw)
    original = build_classifier(info).eval()
    with torch.no_grad():
        for p in original.parameters():
            p.add_(torch.randn_like(p) * 0.02)
    converted, detected = convert_checkpoint(to_official(original, family))
    assert detected['family'] == family and detected['arch'] == kw['arch']
    assert detected['num_classes'] == info['num_classes']
    fresh = build_classifier(detected).eval()
    result = fresh.load_state_dict(converted, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        assert torch.equal(original(x, mode='tensor'), fresh(x, mode='tensor'))


def test_cli_converts_a_file_and_protects_existing_output(tmp_path):
    model = build_classifier(_info('cait', 'xxs24'))
    src, dst = tmp_path / 'cait_official.pth', tmp_path / 'out' / 'cait_mmvx.pth'
    torch.save(to_official(model, 'cait'), src)
    proc = run_tool('tools/model_converters/official2mmvx.py', src, dst)
    assert 'converted cait xxs24' in proc.stdout
    ckpt = torch.load(dst, weights_only=True)
    assert ckpt['meta']['mmvx']['arch'] == 'xxs24'
    assert all(k.startswith(('backbone.', 'head.')) for k in ckpt['state_dict'])
    before = dst.read_bytes()
    proc = run_tool('tools/model_converters/official2mmvx.py', src, dst, check=False)
    assert proc.returncode != 0 and '--overwrite' in proc.stderr
    assert dst.read_bytes() == before


def test_missing_and_unexpected_keys_are_errors():
    model = build_classifier(_info('deit3', 't'))
    official = to_official(model, 'deit3')
    del official['model']['blocks.3.mlp.fc2.bias']
    official['model']['blocks.3.extra'] = torch.zeros(1)
    with pytest.raises(ConversionError) as e:
        convert_checkpoint(official)
    msg = str(e.value)
    assert "missing keys (1): ['backbone.blocks.3.mlp.fc2.bias']" in msg
    assert "unexpected keys (1): ['backbone.blocks.3.extra']" in msg


def test_shape_mismatch_is_an_error():
    model = build_classifier(_info('resmlp', 's12'))
    official = to_official(model, 'resmlp')
    official['blocks.2.gamma_1'] = torch.zeros(100)
    with pytest.raises(ConversionError, match=r'shape mismatches: backbone.blocks.2.gamma_1'):
        convert_checkpoint(official)


def test_unknown_layout_and_already_converted_are_named():
    with pytest.raises(ConversionError, match='cannot tell the family'):
        convert_checkpoint({'model': {'conv1.weight': torch.zeros(1)}})
    sd, _ = convert_checkpoint(to_official(build_classifier(_info('deit3', 't')), 'deit3'))
    with pytest.raises(ConversionError, match='already in mmvision_ext layout'):
        convert_checkpoint({'state_dict': sd})


class NotATensor:
    pass


def test_pickled_code_is_refused_by_default(tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save({'model': {'x': torch.zeros(1)}, 'args': NotATensor()}, path)
    with pytest.raises(ConversionError, match='weights_only=True'):
        load_checkpoint_file(path)
    proc = run_tool('tools/model_converters/official2mmvx.py', path, tmp_path / 'o.pth',
                    check=False)
    assert proc.returncode != 0 and 'Traceback' not in proc.stderr
    # The class refused, and the way out for a file one trusts.
    assert re.search(r'refuses \(\S*NotATensor\).*--trust-pickle', proc.stderr)
    # A whole pickled model, trusted: its weights.
    model = timm.create_model('deit_tiny_patch16_224', pretrained=False)
    for i, saved in enumerate((model, {'model': model})):
        torch.save(saved, tmp_path / f'whole_{i}.pth')
        run_tool('tools/model_converters/official2mmvx.py', tmp_path / f'whole_{i}.pth',
                 tmp_path / f'whole_{i}_mmvx.pth', '--trust-pickle')
        converted = torch.load(tmp_path / f'whole_{i}_mmvx.pth', weights_only=True)
        assert torch.equal(converted['state_dict']['backbone.cls_token'], model.cls_token)


def test_truncated_wrong_family_and_headless_checkpoints_are_named(tmp_path):
    model = build_classifier(_info('deit3', 't'))
    official = to_official(model, 'deit3')
    path = tmp_path / 'deit3.pth'
    torch.save(official, path)
    truncated = tmp_path / 'truncated.pth'
    truncated.write_bytes(path.read_bytes()[:100_000])  # an interrupted download
    with pytest.raises(ConversionError, match='is not a usable checkpoint: .*truncated'):
        load_checkpoint_file(truncated)
    with pytest.raises(ConversionError, match="no 'blocks.0.attn.weight' in it, which a "
                                              'resmlp classifier'):
        convert_checkpoint(official, family='resmlp')
    headless = {k: v for k, v in official['model'].items() if not k.startswith('head.')}
    with pytest.raises(ConversionError, match="no 'head.weight' in it, .*without their "
                                              'classifier head'):
        convert_checkpoint(headless)
