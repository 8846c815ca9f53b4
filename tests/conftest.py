import os
from pathlib import Path

# make test runs two tests at a time on the 2-core CI machine: one math thread each, in
# the tools it starts (the variable) and in its own process (torch is imported by now).
os.environ.setdefault('OMP_NUM_THREADS', '1')

import pytest  # noqa: E402
import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402

from mmvision_ext.datasets.synthetic import SYNTHETIC_CLASSES  # noqa: E402
from tool_process import run_script  # noqa: E402

torch.set_num_threads(int(os.environ['OMP_NUM_THREADS']))
ROOT = Path(__file__).resolve().parents[1]


def pytest_configure(config):
    config.addinivalue_line('markers', 'long(seconds): a test that takes about that long '
                                       'on the CI machine; the longest run first')


def pytest_collection_modifyitems(items):
    """Longest tests first. pytest-xdist hands out the shared-fixture groups first, then
    the other tests in this order: a long test handed out last keeps one worker busy
    alone at the end (the Grafit test did, for 50 s of the suite)."""
    def seconds(item):
        marker = item.get_closest_marker('long')
        return marker.args[0] if marker else 0
    items.sort(key=seconds, reverse=True)


@pytest.fixture(autouse=True, scope='session')
def one_math_thread_per_worker():
    """Both workers import every test module: one that sets torch's thread count at import
    would have both compute on more threads than their share of the cores (it once made
    the suite two minutes slower)."""
    threads, wanted = torch.get_num_threads(), int(os.environ['OMP_NUM_THREADS'])
    if threads != wanted:
        pytest.fail(f'a test module set torch to {threads} threads at import; make test '
                    f'runs each worker on {wanted} (OMP_NUM_THREADS)', pytrace=False)


def run_tool(script, *args, check=True, env=None, timeout=900):
    """Run a repository script in a process of its own, as ``python script args`` from
    the repository root would (forked from a server that has imported the stack once:
    tests/tool_process.py); return the CompletedProcess."""
    proc = run_script(script, args, env={**os.environ, **(env or {})}, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f'{script} {args} failed ({proc.returncode}):\n'
                             f'{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}')
    return proc


def load_tool(relpath):
    """A tool script of the repository as a module, to call its ``main(argv)`` in-process."""
    import runpy
    return runpy.run_path(str(ROOT / relpath), run_name='tool')


def assert_tensors_close(a, b, atol):
    """Two name -> tensor mappings (state dicts, gradients) hold the same names and,
    name by name, values within ``atol``."""
    assert a.keys() == b.keys()
    for name, value in a.items():
        assert torch.allclose(value.float(), b[name].float(), atol=atol), name


def saved_activation_bytes(fn, module):
    """``fn()`` and the bytes of the distinct tensors, other than ``module``'s parameters,
    that autograd keeps for its backward pass. A checkpointed region counts with its
    inputs, which it keeps; the activations inside it are recomputed, not kept."""
    params = {p.untyped_storage().data_ptr() for p in module.parameters()}
    kept = {}

    def pack(t):
        storage = t.untyped_storage()
        if storage.data_ptr() not in params:
            kept[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = fn()
    return out, sum(kept.values())


@pytest.fixture(scope='session')
def synthetic_root(tmp_path_factory):
    """Small synthetic datasets of the three formats, made once per session."""
    from mmvision_ext.datasets import make_dataset
    root = tmp_path_factory.mktemp('synthetic')
    make_dataset('ade20k', str(root / 'ade20k'), num_train=12, num_val=6, seed=0)
    make_dataset('coco', str(root / 'coco'), num_train=12, num_val=6, seed=0)
    make_dataset('imagenet', str(root / 'imagenet'), num_train=20, num_val=10, seed=0)
    return root


@pytest.fixture(scope='session')
def ade_root(tmp_path_factory):
    """Synthetic ADE20k-format set of the segmentation demo (400 + 24 images, 128 px)."""
    from mmvision_ext.datasets import make_dataset
    root = tmp_path_factory.mktemp('ade') / 'synthetic_ade20k'
    make_dataset('ade20k', str(root), num_train=400, num_val=24, size=128, seed=1)
    return root


@pytest.fixture(scope='session')
def coco_root(tmp_path_factory):
    """Synthetic COCO-format set of the detection demo (200 + 30 images, 160 px)."""
    from mmvision_ext.datasets import make_dataset
    root = tmp_path_factory.mktemp('coco') / 'synthetic_coco'
    make_dataset('coco', str(root), num_train=200, num_val=30, size=160, seed=2)
    return root


@pytest.fixture(scope='session')
def imagenet_root(tmp_path_factory):
    """Synthetic ImageNet-format set of the classification tests (800 + 200, 64 px)."""
    from mmvision_ext.datasets import make_dataset
    root = tmp_path_factory.mktemp('imagenet')
    return Path(make_dataset('imagenet', str(root / 'data'), num_train=800, num_val=200,
                             size=IMG, seed=1))


NUM_CLASSES = 10
IMG = 64

# Tiny variants of each family, built from the real recipe configs (tiny_config): 4 blocks
# of width 96 on 4x4 patches of 16 pixels (the thesis' patch size; PatchConvNet's stem
# has stride 16 anyway).
TINY = {
    # LayerScale starts at 0.1 in the 4-block models: LAMB grows a 1e-4 gamma by at most
    # lr (0.3%) a step, too slow for a run of 1000 steps.
    'deit3': dict(config='cls_deit3_s_in1k.py',
                  backbone=dict(arch=dict(patch_size=16, embed_dims=96, depth=4, num_heads=3,
                                          layer_scale_init=0.1), img_size=IMG),
                  head=dict(in_channels=96)),
    'deit': dict(config='cls_deit_t_in1k.py',
                 backbone=dict(arch=dict(patch_size=16, embed_dims=96, depth=4, num_heads=3),
                               img_size=IMG),
                 head=dict(in_channels=96)),
    'cait': dict(config='cls_cait_xxs24_in1k.py',
                 backbone=dict(arch=dict(patch_size=16, embed_dims=96, depth=4, num_heads=3,
                                         layer_scale_init=1e-5),
                               img_size=IMG),
                 head=dict(in_channels=96, num_heads=3)),
    'resmlp': dict(config='cls_resmlp_s12_in1k.py',
                   backbone=dict(arch=dict(patch_size=16, embed_dims=96, depth=4,
                                           layer_scale_init=0.1), img_size=IMG),
                   head=dict(in_channels=96)),
    'patchconvnet': dict(config='cls_patchconvnet_s60_in1k.py',
                         backbone=dict(arch=dict(patch_size=16, embed_dims=96, depth=4,
                                                 layer_scale_init=1e-4)),
                         head=dict(in_channels=96)),
}


def tiny_config(family, data_root, out, epochs, lr=None, config=None, **cfg_options):
    """The family's real recipe config (or ``config``, another of the family's) with a
    tiny model, 64-pixel images, 10 classes, CPU-sized batches and ``epochs`` epochs (the
    first a linear warm-up, then cosine), written to ``out``. Data loads in the main
    process: with make test's two workers on two cores, loader processes only compete
    for them (a learning run takes half the time), and per-sample seeding makes the
    batches the same either way."""
    spec = TINY[family]
    cfg = Config.fromfile(str(ROOT / 'configs' / (config or spec['config'])))
    cfg.model.backbone.update(spec['backbone'], drop_path_rate=0.0)
    cfg.model.head.update(spec['head'], num_classes=NUM_CLASSES)
    cfg.model.head.pop('init_cfg', None)
    cfg.data_preprocessor.num_classes = NUM_CLASSES
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dl = cfg.get(loader)
        if dl is None:  # a pre-training without evaluation
            continue
        dl.update(batch_size=32, num_workers=0, persistent_workers=False)
        dl.dataset.data_root = str(data_root)
        if dl.dataset.type != 'ImageNet21kFileList':  # that one names its synsets
            dl.dataset.metainfo = dict(classes=SYNTHETIC_CLASSES)  # names in the checkpoints
        for t in dl.dataset.pipeline:
            if t['type'] == 'RandomResizedCrop':
                t['scale'] = IMG
            elif t['type'] == 'SimpleRandomCrop':
                t['size'] = IMG
            elif t['type'] == 'TimmRandAugment':
                t['img_size'] = IMG
            elif t['type'] == 'ResizeCenterCrop':
                t['crop_size'] = IMG
    if lr is not None:
        cfg.optim_wrapper.optimizer.lr = lr
    cfg.param_scheduler = [
        dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=1,
             convert_to_iter_based=True)]
    if epochs > 1:  # a one-epoch run is all warm-up
        cfg.param_scheduler.append(
            dict(type='CosineAnnealingLR', eta_min=0., by_epoch=True, begin=1,
                 T_max=epochs - 1, convert_to_iter_based=True))
    cfg.train_cfg.update(max_epochs=epochs, val_interval=epochs)
    cfg.default_hooks.logger.interval = 10
    cfg.default_hooks.checkpoint.update(interval=epochs, save_best=None)
    cfg.env_cfg.dist_cfg = dict(backend='gloo')
    cfg.merge_from_dict(cfg_options)
    out.mkdir(parents=True, exist_ok=True)
    cfg.dump(str(out / f'tiny_{family}.py'))
    return out / f'tiny_{family}.py'
