"""The stack is installed, imports, and its compiled ops run; the setup scripts fail clearly."""
import json
import re
import subprocess
import tarfile
from pathlib import Path

import pytest
import torch

from conftest import ROOT, run_tool
from mmvision_ext.analysis import count_params
from mmvision_ext.apis import init_model


def test_stack_imports_with_compiled_ops():
    import mmcv
    import mmcv.ops  # noqa: F401
    import mmdet
    import mmseg
    import timm  # noqa: F401

    import mmvision_ext  # noqa: F401
    assert mmcv.__version__ == '2.1.0'
    assert mmseg.__version__ == '1.2.2' and mmdet.__version__ == '3.3.0'


def test_roi_align_and_nms_on_cpu():
    from mmcv.ops import RoIAlign, nms
    feat = torch.arange(16, dtype=torch.float32).view(1, 1, 4, 4)
    rois = torch.tensor([[0, 0., 0., 4., 4.]])
    out = RoIAlign((2, 2), spatial_scale=1.0, sampling_ratio=2, aligned=True)(feat, rois)
    # Mean of each 2x2 quadrant of the 0..15 ramp.
    assert torch.allclose(out.flatten(), torch.tensor([2.5, 4.5, 10.5, 12.5]))
    boxes = torch.tensor([[0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30]], dtype=torch.float32)
    scores = torch.tensor([0.9, 0.8, 0.7])
    dets, keep = nms(boxes, scores, iou_threshold=0.5)
    assert keep.tolist() == [0, 2]
    assert torch.allclose(dets[:, 4], torch.tensor([0.9, 0.7]))


def _run_setup(env):
    return subprocess.run(['bash', str(ROOT / 'tools/setup_env.sh')], capture_output=True,
                          text=True, env=env, cwd=ROOT)


@pytest.fixture
def stale_stamp_env(tmp_path):
    """An environment in which setup_env.sh does not short-cut on its stamp: it is
    pointed at a new virtual environment, so the project's own .venv is not touched."""
    import os
    return {**os.environ, 'MMVX_VENV': str(tmp_path / 'venv')}


def test_setup_without_python311_says_so(stale_stamp_env, tmp_path):
    proc = _run_setup({**stale_stamp_env, 'PYTHON': 'python3.11-not-there'})
    assert proc.returncode != 0 and not (tmp_path / 'venv').exists()
    assert 'Python 3.11 not found' in proc.stderr and 'PYTHON=' in proc.stderr


def test_setup_without_compiler_says_so(stale_stamp_env, tmp_path):
    proc = _run_setup({**stale_stamp_env, 'CXX': 'no-such-c++'})
    assert proc.returncode != 0 and not (tmp_path / 'venv').exists()
    assert 'no C++ compiler' in proc.stderr


def test_failed_mmcv_build_shows_log_path(tmp_path):
    """A source archive whose build fails: the error names the log, which exists."""
    import os
    import sys
    pkg = tmp_path / 'mmcv-2.1.0'
    pkg.mkdir()
    (pkg / 'setup.py').write_text('import sys\nprint("compiler exploded")\nsys.exit(3)\n')
    sdist = tmp_path / 'mmcv-2.1.0.tar.gz'
    with tarfile.open(sdist, 'w:gz') as tar:
        tar.add(pkg, arcname='mmcv-2.1.0')
    log = tmp_path / 'logs' / 'build.log'
    proc = subprocess.run(
        ['bash', str(ROOT / 'tools/build_mmcv_wheel.sh'), sys.executable, '2.1.0',
         str(tmp_path / 'wheels'), str(log), '0'],
        capture_output=True, text=True, env={**os.environ, 'MMVX_MMCV_SDIST': str(sdist)})
    assert proc.returncode != 0
    assert f'mmcv build failed; full log: {log}' in proc.stderr
    assert 'compiler exploded' in log.read_text()


def test_setup_is_a_noop_when_up_to_date():
    import os
    proc = _run_setup(dict(os.environ))
    assert proc.returncode == 0 and 'up to date' in proc.stdout


@pytest.mark.long(30)
def test_wheel_ships_configs_and_tools(tmp_path):
    """``pip install`` of the wheel (not editable) into a new environment that already
    has the stack installs nothing else, and from a folder outside the checkout the
    installed tools train the demo config by name and ``init_model`` builds a config by
    name: configs and tools travel inside the package (``mmvision_ext/.mim``). OpenMMLab's
    ``mim`` finds the package: ``mim search`` reads its model index, ``mim train`` and
    ``mim test`` run its tools on a config named by file name."""
    import os
    import shutil
    import sys
    import sysconfig
    src = tmp_path / 'src'  # built from a copy: the checkout gets no build/ or egg-info
    for name in ('mmvision_ext', 'configs', 'tools'):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns('__pycache__'))
    for name in ('setup.py', 'README.md', 'LICENSE', 'model-index.yml'):
        shutil.copy2(ROOT / name, src / name)
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    pip = [sys.executable, '-m', 'pip', '--disable-pip-version-check', '-q']
    subprocess.run(pip + ['wheel', '--no-deps', '--no-build-isolation', '-w', str(tmp_path / 'dist'),
                          str(src)], check=True, capture_output=True, env=env, cwd=tmp_path)
    wheel, = (tmp_path / 'dist').glob('mmvision_ext-*.whl')

    venv = tmp_path / 'venv'
    subprocess.run([sys.executable, '-m', 'venv', '--without-pip', str(venv)], check=True)
    py = venv / 'bin' / 'python'
    site = subprocess.run([py, '-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'],
                          capture_output=True, text=True, check=True).stdout.strip()
    # The stack of the project's environment, seen by the new one through links to
    # everything in its site-packages but the editable mmvision_ext.
    stack = tmp_path / 'stack'
    stack.mkdir()
    for entry in Path(sysconfig.get_paths()['purelib']).iterdir():
        if 'mmvision_ext' not in entry.name and not entry.name.endswith('.pth'):
            (stack / entry.name).symlink_to(entry)
    (Path(site) / 'stack.pth').write_text(f'{stack}\n')
    proc = subprocess.run([py, '-m', 'pip', '--disable-pip-version-check', 'install',
                           '--no-index', str(wheel)],
                          capture_output=True, text=True, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    installed = sorted(p.name for p in Path(site).glob('*.dist-info'))
    assert len(installed) == 1 and installed[0].startswith('mmvision_ext-'), installed

    work = tmp_path / 'elsewhere'
    work.mkdir()
    code = ('import mmvision_ext, sys; from mmvision_ext.apis import init_model; '
            'm = init_model("upernet_patchconvnet_b60", device="meta"); '
            'print(mmvision_ext.__file__, m.backbone.num_layers)')
    proc = subprocess.run([py, '-c', code], capture_output=True, text=True, env=env, cwd=work)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == [f'{site}/mmvision_ext/__init__.py', '60']
    tools = Path(site) / 'mmvision_ext' / '.mim' / 'tools'
    subprocess.run([py, tools / 'make_demo_data.py', 'data/synthetic_ade20k', '--task', 'ade20k',
                    '--num-train', '8', '--num-val', '2', '--size', '128'],
                   check=True, capture_output=True, env=env, cwd=work)
    mim = [py, '-m', 'mim']
    proc = subprocess.run(mim + ['search', 'mmvision_ext', '--model', 'patchconvnet',
                                 '--json', 'found.json'],
                          capture_output=True, text=True, env=env, cwd=work)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    found = json.loads((work / 'found.json').read_text())  # {field: {config name: value}}
    assert {'cls_patchconvnet_s60_in1k', 'upernet_patchconvnet_b60'} <= set(found['model'])
    assert set(found['model'].values()) == {'patchconvnet'}
    s60 = 'cls_patchconvnet_s60_in1k'
    assert found['imagenet-1k/top_1_accuracy'][s60] == 82.1  # thesis T5.1
    assert found['parameters'][s60] == count_params(init_model(s60, device='meta'))
    short = ['--cfg-options', 'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
             'default_hooks.checkpoint.interval=2', 'train_dataloader.num_workers=0',
             'val_dataloader.num_workers=0']
    proc = subprocess.run(mim + ['train', 'mmvision_ext', 'upernet_patchconvnet_demo_synthetic.py',
                                 '--work-dir', 'by_mim', *short],
                          capture_output=True, text=True, env=env, cwd=work)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    assert (work / 'by_mim' / 'iter_2.pth').is_file()
    proc = subprocess.run(mim + ['test', 'mmvision_ext', 'upernet_patchconvnet_demo_synthetic.py',
                                 '--checkpoint', 'by_mim/iter_2.pth', '--work-dir', 'mim_test'],
                          capture_output=True, text=True, env=env, cwd=work)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    assert re.search(r'test: aAcc [\d.]+, mIoU [\d.]+', proc.stdout), proc.stdout[-2000:]


def test_model_index_lists_every_config_of_the_zoo():
    """model-index.yml imports one metafile per family; together they name every config
    but the demos, the distillation teacher and Grafit's, each with its file, and the
    parameters that the config builds now (every config: the index is regenerated and
    compared)."""
    import yaml
    index = yaml.safe_load((ROOT / 'model-index.yml').read_text())
    models = {}
    for rel in index['Import']:
        doc = yaml.safe_load((ROOT / rel).read_text())
        collection, = doc['Collections']
        for m in doc['Models']:
            assert m['In Collection'] == collection['Name']
            models[m['Name']] = m
    zoo = {p.stem for p in (ROOT / 'configs').glob('*.py')
           if 'demo' not in p.stem and 'teacher' not in p.stem
           and not p.stem.startswith('grafit_')}  # a method's configs: docs/grafit.md
    assert set(models) == zoo
    assert all((ROOT / m['Config']).is_file() for m in models.values())
    proc = run_tool('tools/analysis/model_zoo_table.py', '--metafiles-only', '--check',
                    check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_xdist_groups_keep_their_tests_on_one_worker(tmp_path):
    """make test trains each demo once because pytest-xdist's --dist loadgroup sends a
    module's xdist_group to one worker; with pytest 9.2 it silently stops doing so (the
    pin in requirements.txt), and every demo would be trained on both workers."""
    import sys
    (tmp_path / 'test_grouped.py').write_text(
        "import os, time, pytest\n"
        "pytestmark = pytest.mark.xdist_group('one')\n"
        "@pytest.mark.parametrize('i', range(6))\n"
        "def test_g(i):\n"
        "    time.sleep(0.1)\n"
        "    open(f'worker_{os.environ[\"PYTEST_XDIST_WORKER\"]}', 'a').close()\n")
    (tmp_path / 'test_free.py').write_text(
        "import time, pytest\n@pytest.mark.parametrize('i', range(6))\n"
        "def test_f(i):\n    time.sleep(0.1)\n")
    proc = subprocess.run([sys.executable, '-m', 'pytest', '-q', '-n', '2', '--dist', 'loadgroup',
                           '-p', 'no:cacheprovider', str(tmp_path)], cwd=tmp_path,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert len(list(tmp_path.glob('worker_*'))) == 1


def test_package_and_backbones_import_without_mmcv_compiled_ops():
    """A machine where mmcv's ops do not build (mmcv-lite, a bare GPU node): the package,
    the backbones and the classifiers still import and build; only what needs the ops
    (Mask R-CNN, mmseg's heads) does not."""
    import sys
    script = (
        "import importlib.abc, sys\n"
        "class NoOps(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        if name == 'mmcv._ext':\n"
        "            raise ImportError('mmcv._ext: mmcv built without its ops')\n"
        "sys.meta_path.insert(0, NoOps())\n"
        "import mmvision_ext\n"
        "from mmvision_ext.apis import init_model\n"
        "for name in ('cls_deit3_s_in1k', 'cls_deit_s_in1k', 'cls_cait_xxs24_in1k',\n"
        "             'cls_resmlp_s12_in1k', 'cls_patchconvnet_s60_in1k'):\n"
        "    init_model(name, device='meta')\n"
        "print('built without ops')\n"
        "import mmcv.ops\n")
    proc = subprocess.run([sys.executable, '-c', script], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    # Everything up to the last line ran; the last line shows the ops were really absent.
    assert proc.stdout.strip() == 'built without ops', proc.stderr[-2000:]
    assert proc.returncode != 0 and proc.stderr.strip().splitlines()[-1] == \
        'ImportError: mmcv._ext: mmcv built without its ops', proc.stderr[-2000:]
