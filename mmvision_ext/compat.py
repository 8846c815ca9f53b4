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


# --- 2. distributed runs on CPU-only machines (gloo) -------------------------------
# mmengine's pytorch launcher calls torch.cuda.set_device(LOCAL_RANK) unconditionally
# and its runner passes device_ids=[LOCAL_RANK] to DistributedDataParallel; both fail
# without a GPU. Without CUDA we skip set_device and give DDP no device ids, which is
# what torch expects for CPU modules. GPU runs take the original code paths.
import mmengine.dist.utils as _dist_utils  # noqa: E402
from mmengine.model.wrappers import MMDistributedDataParallel  # noqa: E402

_init_dist_pytorch = _dist_utils._init_dist_pytorch


def init_dist_pytorch(backend, init_backend='torch', **kwargs):
    if torch.cuda.is_available() or init_backend != 'torch':
        return _init_dist_pytorch(backend, init_backend, **kwargs)
    torch.distributed.init_process_group(backend=backend, **kwargs)


_dist_utils._init_dist_pytorch = init_dist_pytorch
_ddp_init = MMDistributedDataParallel.__init__


def ddp_init(self, module, detect_anomalous_params=False, **kwargs):
    if kwargs.get('device_ids') and all(p.device.type == 'cpu' for p in module.parameters()):
        kwargs['device_ids'] = None
    _ddp_init(self, module, detect_anomalous_params, **kwargs)


MMDistributedDataParallel.__init__ = ddp_init


# --- 3. mmcv's RoIAlign on channels-last maps ---------------------------------------
# mmcv 2.1.0's compiled roi_align kernels index the input's raw memory as contiguous
# NCHW, so a channels-last map (what an isotropic backbone's (B, H, W, C) tokens give
# when permuted to NCHW, and what every conv after them keeps) is read scrambled,
# silently: Mask R-CNN's RoI head then sees noise and does not learn. The op gets a
# contiguous copy (the fix suggested upstream in open-mmlab/mmcv#2203); NCHW
# inputs pass through untouched. An mmcv built without its compiled ops has no RoIAlign
# to fix (and no Mask R-CNN): the package and the backbones import without them.
#
# --- 3b. mmcv's RoIAlign and NMS under bfloat16 autocast (train.py --amp) ---------------
# Their compiled kernels are dispatched for float and double (and half on CUDA), not
# bfloat16, which --amp picks on CPUs and Ampere+ GPUs: Mask R-CNN then stopped at its
# first NMS ('expected scalar type Float but found BFloat16'). bfloat16 inputs run in
# float32, and RoIAlign's output and gradients go back to bfloat16 (mmdet writes the
# output into a tensor of the features' dtype); other dtypes run as before.
try:
    from mmcv.ops.nms import NMSop  # noqa: E402
    from mmcv.ops.roi_align import RoIAlignFunction  # noqa: E402
except ImportError:
    NMSop = RoIAlignFunction = None


def _float_if_bf16(*tensors):
    if any(t.dtype == torch.bfloat16 for t in tensors):
        return tuple(t.float() for t in tensors)
    return tensors


def roi_align_forward(ctx, input, rois, *args, **kwargs):
    dtype = input.dtype
    input, rois = _float_if_bf16(input.contiguous(), rois)
    return _roi_align_forward(ctx, input, rois, *args, **kwargs).to(dtype)


def roi_align_backward(ctx, grad_output):
    if grad_output.dtype != torch.bfloat16:
        return _roi_align_backward(ctx, grad_output)
    grad_input, *rest = _roi_align_backward(ctx, grad_output.float())
    return (grad_input.to(torch.bfloat16), *rest)


def nms_forward(ctx, bboxes, scores, *args, **kwargs):
    return _nms_forward(ctx, *_float_if_bf16(bboxes, scores), *args, **kwargs)


if RoIAlignFunction is not None:
    _roi_align_forward = RoIAlignFunction.forward
    RoIAlignFunction.forward = staticmethod(roi_align_forward)
    _roi_align_backward = RoIAlignFunction.backward
    RoIAlignFunction.backward = staticmethod(roi_align_backward)
    _nms_forward = NMSop.forward
    NMSop.forward = staticmethod(nms_forward)


# --- 4. mmcv's adjust_hue with a negative hue shift under numpy 2 -------------------------
# mmcv 2.1.0 rotates the hue channel with `h += np.uint8(hue_factor * 255)`, relying on
# numpy 1's wrap-around of negative values; numpy 2 raises OverflowError instead, so
# every ColorJitter with hue > 0 (mmpretrain's BYOL/SimCLR pipelines, Grafit's) fails
# on about half of its images. The same rotation, modulo 256, for both backends.
import cv2  # noqa: E402
import mmcv  # noqa: E402
import numpy as np  # noqa: E402
from mmcv.image import photometric  # noqa: E402
from PIL import Image  # noqa: E402

_adjust_hue = photometric.adjust_hue


def adjust_hue(img, hue_factor, backend=None):
    if hue_factor >= 0:
        return _adjust_hue(img, hue_factor, backend)
    if not -0.5 <= hue_factor:
        raise ValueError(f'hue_factor:{hue_factor} is not in [-0.5, 0.5].')
    shift = int(hue_factor * 255) % 256  # numpy 1's uint8 wrap-around of int(h * 255)
    rotate = lambda h: ((h.astype(np.uint16) + shift) % 256).astype(np.uint8)  # noqa: E731
    if (backend or photometric.imread_backend) == 'pillow':
        h, s, v = Image.fromarray(img[..., ::-1], mode='RGB').convert('HSV').split()
        hsv = Image.merge('HSV', (Image.fromarray(rotate(np.array(h)), 'L'), s, v))
        return np.array(hsv.convert('RGB'), dtype=img.dtype)[..., ::-1]
    h, s, v = cv2.split(cv2.cvtColor(img.astype(np.uint8), cv2.COLOR_BGR2HSV_FULL))
    bgr = cv2.cvtColor(cv2.merge([rotate(h), s, v]), cv2.COLOR_HSV2BGR_FULL)
    return bgr.astype(img.dtype)


photometric.adjust_hue = mmcv.image.adjust_hue = mmcv.adjust_hue = adjust_hue


# --- 5. the test metrics' JSON file under distributed testing -------------------------------
# mmengine 0.10.7's LoggerHook.after_test_epoch dumps the test metrics to
# <log_dir>/<timestamp>.json on every rank. The ranks share the log dir, so their writes
# race and can leave a corrupt file (one rank's record followed by the tail of another's,
# '...}}'), which readers of tools/dist_test.sh's results then fail to parse. Only the
# main process writes it, as mmengine does for its other log files.
from mmengine.dist import is_main_process  # noqa: E402
from mmengine.hooks import logger_hook as _logger_hook  # noqa: E402

_logger_dump = _logger_hook.dump


def dump_on_main_process(obj, file=None, **kwargs):
    if is_main_process():
        return _logger_dump(obj, file, **kwargs)


_logger_hook.dump = dump_on_main_process


# --- 6. mmpretrain's models beside a newer transformers --------------------------------------
# mmpretrain 1.2.0 imports its multimodal models (BLIP, BLIP-2, OFA, RAM, ...) whenever
# transformers >= 4.28 is installed, and they import names that later transformers releases
# removed (transformers.modeling_utils.apply_chunking_to_forward, GenerationMixin ...). The
# import then fails ('TypeError: NoneType takes no arguments', or an ImportError) and takes
# every mmpretrain model with it, ours included. When any of those names is missing,
# mmpretrain registers its multimodal placeholders instead, as it does without transformers.
import ast  # noqa: E402
import importlib  # noqa: E402
import pathlib  # noqa: E402

import mmpretrain  # noqa: E402
from mmpretrain.utils import dependency as _mmpretrain_dependency  # noqa: E402


def transformers_has_what_mmpretrain_imports():
    """Whether every ``from transformers... import name`` of mmpretrain's multimodal models
    and of the utilities they use resolves (read from their source, nothing of it run)."""
    models = pathlib.Path(mmpretrain.__file__).parent / 'models'
    files = sorted((models / 'multimodal').rglob('*.py')) + [
        models / 'utils' / 'huggingface.py', models / 'utils' / 'tokenizer.py']
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.ImportFrom) and node.module
                    and node.module.split('.')[0] == 'transformers'):
                continue
            try:
                module = importlib.import_module(node.module)
                for alias in node.names:
                    getattr(module, alias.name)
            except Exception:
                return False
    return True


if _mmpretrain_dependency.WITH_MULTIMODAL and not transformers_has_what_mmpretrain_imports():
    _mmpretrain_dependency.WITH_MULTIMODAL = False
