"""Fixes for the OpenMMLab stack on torch 2.14 / numpy 2 / Python 3.11.

Each fix is as narrow as it can be and has a test that fails without it
(tests/test_compat.py). Applied once, when ``mmvision_ext`` is imported.
"""
import os.path as osp

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

# --- 1. resuming and load_from under torch.load(weights_only=True) ---------------
# torch >= 2.6 loads with weights_only=True by default, and mmengine 0.10.7 calls
# torch.load without arguments. Its own checkpoints hold, besides tensors, the
# message hub's HistoryBuffer (which pickles its statistics methods through
# getattr) and numpy scalars/arrays, so resume and load_from fail. We keep
# weights_only=True and allow exactly those types, only while mmengine loads a
# local checkpoint; safety stays on for every other torch.load.
MMENGINE_CHECKPOINT_GLOBALS = [
    HistoryBuffer, getattr,
    np.ndarray, np.dtype, np._core.multiarray._reconstruct, np._core.multiarray.scalar,
    *[getattr(np.dtypes, name) for name in np.dtypes.__all__ if name.endswith('DType')],
]


def load_from_local(filename, map_location):
    """mmengine's local checkpoint loader, weights-only with mmengine's own types."""
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    with torch.serialization.safe_globals(MMENGINE_CHECKPOINT_GLOBALS):
        return torch.load(filename, map_location=map_location, weights_only=True)


CheckpointLoader.register_scheme(prefixes='', loader=load_from_local, force=True)
