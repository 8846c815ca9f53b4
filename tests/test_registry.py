"""Every module of the project is found from any default scope, and none of our names
is shadowed by mmseg's, mmdet's or mmpretrain's own registries (docs/design.md)."""
import pytest
from mmengine.registry import DefaultScope

import mmvision_ext  # noqa: F401
from mmvision_ext import registry

def _ours(reg):
    return sorted(name for name, obj in reg.module_dict.items()
                  if obj.__module__.startswith('mmvision_ext.') or name == 'TimmLamb')


# Every name the project registers, read from the registries themselves (timm's LAMB
# is registered under a name of ours).
OURS = {name: _ours(getattr(registry, name)) for name in registry.__all__}


def test_our_modules_are_registered_in_the_root_registries():
    assert {'DeiT3ViT', 'DeiTViT', 'CaiT', 'ResMLP', 'PatchConvNet', 'Grafit',
            'IsotropicPyramidNeck'} <= set(OURS['MODELS'])
    assert 'SafeCheckpointHook' in OURS['HOOKS'] and 'ThreeAugment' in OURS['TRANSFORMS']
    assert 'CIFAR100TwoLevel' in OURS['DATASETS'] and OURS['METRICS']
    assert OURS['OPTIMIZERS'] == ['TimmLamb']
    for name in registry.__all__:
        assert getattr(registry, name).scope == 'mmengine'


@pytest.mark.parametrize('scope', ['mmseg', 'mmdet', 'mmpretrain'])
def test_found_from_every_scope_and_not_shadowed(scope):
    import importlib
    lib = importlib.import_module(f'{scope}.registry')
    importlib.import_module(f'{scope}.models')  # fills the library's registries
    importlib.import_module(f'{scope}.engine')
    importlib.import_module(f'{scope}.datasets')
    importlib.import_module(f'{scope}.evaluation')
    for reg_name, names in OURS.items():
        reg, child = getattr(registry, reg_name), getattr(lib, reg_name)
        for name in names:
            assert name not in child.module_dict, f'{scope} registers its own {name}'
            with DefaultScope.overwrite_default_scope(scope):
                assert child.get(name) is reg.module_dict[name]


def test_mmseg_builds_our_backbone_from_its_own_scope():
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    model = MODELS.build(dict(
        type='EncoderDecoder',
        backbone=dict(type='PatchConvNet', arch='s60', out_indices=(-1,)),
        neck=dict(type='IsotropicPyramidNeck', in_channels=384, num_inputs=1,
                  norm_cfg=dict(type='BN')),
        decode_head=dict(type='FCNHead', in_channels=384, in_index=2, channels=32,
                         num_classes=5, norm_cfg=dict(type='BN'))))
    assert type(model.backbone).__name__ == 'PatchConvNet'


def test_configs_are_found_by_name():
    """``init_model``, ``tools/train.py`` and ``tools/test.py`` take a config name as well
    as a path; an unknown name is one error line listing the close names."""
    from conftest import ROOT, run_tool
    from mmvision_ext.apis import init_model
    from mmvision_ext.configs import config_names, find_config
    assert find_config('upernet_patchconvnet_b60') == ROOT / 'configs/upernet_patchconvnet_b60.py'
    assert find_config('upernet_patchconvnet_b60.py') == find_config('upernet_patchconvnet_b60')
    assert 'cls_deit3_s_in1k' in config_names() and 'upernet_isotropic' not in config_names()
    model = init_model('upernet_patchconvnet_b60', device='meta')
    assert model.backbone.embed_dims == 768 and model.backbone.num_layers == 60
    proc = run_tool('tools/train.py', 'upernet_patchconvnet_b06', check=False)
    assert proc.returncode != 0 and 'Traceback' not in proc.stderr
    error = [line for line in proc.stderr.splitlines() if line.startswith('error:')]
    assert len(error) == 1 and 'upernet_patchconvnet_b60' in error[0], proc.stderr[-2000:]
    proc = run_tool('tools/test.py', 'configs/no_such_config.py', 'x.pth', check=False)
    assert proc.returncode != 0 and "no config file or config name 'configs/no_such_config.py'" \
        in proc.stderr


def test_every_shipped_config_passes_the_config_checks():
    """mmseg's metrics drop keys they do not know: each key of a shipped config's
    evaluators is checked (``check_metric_keys``) against what its metric takes; and a
    classifier's head has as many classes as its targets (``check_num_classes``)."""
    from conftest import ROOT
    from mmvision_ext.runner_utils import check_metric_keys, check_num_classes, load_config
    for path in sorted((ROOT / 'configs').glob('*.py')):
        cfg = load_config(path)
        check_metric_keys(cfg, ['val_evaluator', 'test_evaluator'])
        check_num_classes(cfg)


@pytest.mark.parametrize('metric_type', ['IoUMetric', 'class'])
@pytest.mark.parametrize('wrapped', [False, True], ids=['metric', 'evaluator'])
def test_a_misspelt_metric_key_is_refused(metric_type, wrapped):
    """A metric named by its registry name or, in a pure-Python config, by its class,
    given alone or inside ``dict(type='Evaluator', metrics=[...])``: a misspelt key is
    refused with the tools' unknown-key line, the right ones pass."""
    from mmengine.config import Config
    from mmseg.evaluation import IoUMetric

    from mmvision_ext.errors import user_error_message
    from mmvision_ext.runner_utils import check_metric_keys

    def config(**keys):
        metric = dict(type=IoUMetric if metric_type == 'class' else metric_type, **keys)
        return Config(dict(default_scope='mmseg', test_evaluator=dict(
            type='Evaluator', metrics=[metric]) if wrapped else metric))
    check_metric_keys(config(iou_metrics=['mDice']), ['test_evaluator'])
    misspelt = config(iou_metric=['mDice'])
    with pytest.raises(TypeError, match="unexpected keyword argument 'iou_metric'") as exc:
        check_metric_keys(misspelt, ['test_evaluator'])
    assert user_error_message(exc.value, misspelt).endswith(
        "IoUMetric has no argument 'iou_metric'; did you mean iou_metrics?")
