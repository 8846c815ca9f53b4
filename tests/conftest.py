import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT.parent / 'shared' / 'SPEC.md'

# Keep the CPU test suite predictable on the 2-core CI machine.
os.environ.setdefault('OMP_NUM_THREADS', '2')


def run_tool(*args, check=True, env=None, timeout=900):
    """Run a repository script with the venv's Python; return the CompletedProcess."""
    proc = subprocess.run([sys.executable, *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f'{args} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n'
                             f'{proc.stderr[-3000:]}')
    return proc


@pytest.fixture(scope='session')
def synthetic_root(tmp_path_factory):
    """Small synthetic datasets of the three formats, made once per session."""
    from mmvision_ext.datasets import make_dataset
    root = tmp_path_factory.mktemp('synthetic')
    make_dataset('ade20k', str(root / 'ade20k'), num_train=12, num_val=6, seed=0)
    make_dataset('coco', str(root / 'coco'), num_train=12, num_val=6, seed=0)
    make_dataset('imagenet', str(root / 'imagenet'), num_train=20, num_val=10, seed=0)
    return root
