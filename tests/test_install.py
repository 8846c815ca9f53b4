"""The stack is installed, imports, and its compiled ops run; the setup scripts fail clearly."""
import subprocess
import tarfile

import pytest
import torch

from conftest import ROOT


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
