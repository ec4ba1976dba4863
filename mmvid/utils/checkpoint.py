"""Loading checkpoints safely: an allow-list, never ``weights_only=False``.

Every checkpoint is read with ``torch.load(..., weights_only=True)``. The few
non-tensor types that real checkpoints contain (numpy scalars and arrays in
mmaction2 0.x ``meta``, mmengine's ``HistoryBuffer`` in ``message_hub``) are
allowed by :data:`SAFE_GLOBALS`; anything else, such as a pickle that calls
``os.system``, is refused with a :class:`CheckpointError`.

Typical use::

    from mmvid.utils.checkpoint import load_checkpoint, resolve_pretrained
    load_checkpoint(model, resolve_pretrained('torchvision://resnet50'))
"""
import glob
import importlib
import logging
import os
import os.path as osp
import pickle
import re
import struct
from collections import OrderedDict
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence
from typing import Tuple, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer, MMLogger, print_log
from mmengine.utils import digit_version
from torch import Tensor, nn

__all__ = [
    'CheckpointError', 'SAFE_GLOBALS', 'register_safe_globals', 'load_file',
    'get_state_dict', 'load_state_dict', 'load_checkpoint',
    'resolve_pretrained', 'TORCHVISION_URLS'
]

# How many keys or lines an error message or log lists before "... and N more".
_MAX_LISTED = 10


class CheckpointError(RuntimeError):
    """A checkpoint file is unsafe, corrupt or does not fit the model."""


# --------------------------------------------------------------------------
# The allow-list
# --------------------------------------------------------------------------
def _numpy_multiarray():
    """numpy's ``multiarray`` module (``numpy._core`` from numpy 2 on)."""
    major = digit_version(np.__version__)[0]
    name = 'numpy._core.multiarray' if major >= 2 else 'numpy.core.multiarray'
    return importlib.import_module(name)


_MULTIARRAY = _numpy_multiarray()

# The statistics methods a HistoryBuffer pickles by reference (see
# ``HistoryBuffer.__getstate__``); protocol 2 writes them as
# ``getattr(HistoryBuffer, 'min')`` and so on.
_HISTORY_BUFFER_METHODS = ('min', 'max', 'current', 'mean')


def _history_buffer_getattr(obj: Any, name: str) -> Callable:
    """A ``getattr`` that only returns HistoryBuffer's statistics methods.

    It stands in for ``builtins.getattr`` while unpickling, so mmengine's
    ``message_hub`` loads while ``getattr(<anything>, <anything>)`` cannot be
    used to reach arbitrary attributes.

    Raises:
        pickle.UnpicklingError: for any other object or attribute name.
    """
    if obj is HistoryBuffer and name in _HISTORY_BUFFER_METHODS:
        return getattr(obj, name)
    owner = getattr(obj, '__qualname__', type(obj).__qualname__)
    raise pickle.UnpicklingError(
        f'unsafe getattr({owner}, {name!r}) is not on the allow-list')


def _numpy_dtype_classes() -> List[type]:
    """The dtype classes of numpy's bool and numeric dtypes.

    torch's unpickler only restores the state of (``BUILD``s) objects whose
    exact type is allowed; the type of ``np.dtype('f8')`` is
    ``numpy.dtypes.Float64DType``, not ``numpy.dtype``.
    """
    codes = ('bool', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16',
             'uint32', 'uint64', 'float16', 'float32', 'float64')
    return [type(np.dtype(code)) for code in codes]


#: Globals that ``torch.load(weights_only=True)`` may use besides torch's own
#: defaults (tensors, storages, ``OrderedDict``, ``Counter``, ``set`` ...).
#: An entry is an object, or ``(object, 'name in the pickle')``; the named
#: form accepts files written under numpy 1.x (``numpy.core``) and 2.x
#: (``numpy._core``) alike.
SAFE_GLOBALS: List[Union[Callable, Tuple[Callable, str]]] = [
    # numpy scalars, e.g. np.float64 best_score in mmaction2 0.x hook_msgs.
    (_MULTIARRAY.scalar, 'numpy._core.multiarray.scalar'),
    (_MULTIARRAY.scalar, 'numpy.core.multiarray.scalar'),
    # numpy arrays, e.g. the histories inside mmengine's HistoryBuffer.
    (_MULTIARRAY._reconstruct, 'numpy._core.multiarray._reconstruct'),
    (_MULTIARRAY._reconstruct, 'numpy.core.multiarray._reconstruct'),
    # the array class passed to _reconstruct.
    np.ndarray,
    # dtype objects of numpy scalars and arrays.
    np.dtype,
    # mmengine's logged scalars in message_hub['log_scalars'].
    HistoryBuffer,
    # HistoryBuffer pickles its statistics methods as getattr(cls, 'min');
    # a restricted stand-in, never the real builtins.getattr.
    (_history_buffer_getattr, 'builtins.getattr'),
    # dtype classes (numpy.dtypes.Float64DType ...) of bool and numbers.
    *_numpy_dtype_classes(),
]

_MIN_TORCH = '2.6.0'


def _check_torch_version() -> None:
    """Raise if torch cannot load with an allow-list of named globals."""
    if digit_version(torch.__version__) < digit_version(_MIN_TORCH):
        raise RuntimeError(
            f'mmvid loads checkpoints with torch.load(weights_only=True) and '
            f'an allow-list, which needs torch>={_MIN_TORCH}; found '
            f'torch {torch.__version__}')


def register_safe_globals() -> None:
    """Add :data:`SAFE_GLOBALS` to torch's process-wide allow-list.

    Afterwards any ``torch.load`` with ``weights_only=True`` (the default
    from torch 2.6 on), such as mmengine's ``Runner.resume`` and
    ``load_checkpoint``, can read mmengine and mmaction2 checkpoints. Calling
    it again changes nothing. With torch < 2.6, whose ``torch.load`` does not
    default to ``weights_only=True``, it does nothing.
    """
    if digit_version(torch.__version__) < digit_version(_MIN_TORCH):
        return
    torch.serialization.add_safe_globals(SAFE_GLOBALS)


# --------------------------------------------------------------------------
# Reading files
# --------------------------------------------------------------------------
# Where torch's weights-only unpickler names what it refused, in its messages.
_REFUSED_PATTERNS = (
    re.compile(r'GLOBAL (\S+)'),
    re.compile(r'(getattr\([^)]*\))'),
    re.compile(r"but got <class '([^']+)'>"),
    re.compile(r'unrecognized function (.+?)(?: which belongs|$)', re.M),
)
# What torch's weights-only unpickler raises on a cut or garbled pickle.
_UNPICKLER_FAILURES = (EOFError, struct.error, KeyError, IndexError,
                       ValueError, UnicodeDecodeError)
# Markers of torch's messages for a truncated or non-torch file.
_CORRUPT_MARKERS = ('PytorchStreamReader', 'zip archive', 'corrupt',
                    'magic number', 'Unsupported operand', 'load key')


def _refused_global(message: str) -> Optional[str]:
    """The global named in a weights-only refusal message, if any."""
    for pattern in _REFUSED_PATTERNS:
        match = pattern.search(message)
        if match:
            return match.group(1).strip()
    return None


def _unsafe_error(filename: str, culprit: str) -> CheckpointError:
    return CheckpointError(
        f'refusing to load {filename}: it references {culprit}, which is not '
        "on mmvid's allow-list of safe types; it may execute code. Only if "
        'you trust the file, convert it once to a plain state dict '
        "(torch.save(torch.load(f, weights_only=False)['state_dict'], out)) "
        'and load that')


def _corrupt_error(filename: str, reason: str) -> CheckpointError:
    reason = ' '.join(reason.split())[:200] or 'unexpected end of file'
    return CheckpointError(
        f'cannot load {filename}: it is truncated or not a torch checkpoint '
        f'({reason})')


def load_file(filename: str, map_location: Any = 'cpu') -> Any:
    """Read a checkpoint with ``weights_only=True`` and :data:`SAFE_GLOBALS`.

    Reads plain state dicts, mmaction2 0.x and 1.x / mmengine checkpoints,
    PySlowFast ``.pyth`` files and legacy (non-zip) torch files.

    Args:
        filename: Path of the checkpoint.
        map_location: Passed to ``torch.load``.

    Returns:
        The object stored in the file, usually a dict.

    Raises:
        FileNotFoundError: if ``filename`` does not exist.
        CheckpointError: if the file needs a global outside the allow-list
            (it may execute code when unpickled), or it is truncated or not a
            torch checkpoint. There is no fallback to ``weights_only=False``.
    """
    _check_torch_version()
    filename = osp.expanduser(filename)
    if not osp.exists(filename):
        raise FileNotFoundError(f'checkpoint file not found: {filename}')
    try:
        with torch.serialization.safe_globals(_unregistered_safe_globals()):
            return torch.load(filename,
                              map_location=map_location,
                              weights_only=True)
    except pickle.UnpicklingError as err:
        culprit = _refused_global(str(err))
        if culprit is not None:
            raise _unsafe_error(filename, culprit) from None
        raise _corrupt_error(filename, _last_line(str(err))) from err
    except _UNPICKLER_FAILURES as err:
        # torch's weights-only unpickler fails on a cut or garbled legacy
        # (non-zip) pickle with whatever its parsing hits first.
        reason = f'{type(err).__name__}: {err}' if str(err) else ''
        raise _corrupt_error(filename, reason) from err
    except RuntimeError as err:
        if any(marker in str(err) for marker in _CORRUPT_MARKERS):
            raise _corrupt_error(filename, str(err).split('.')[0]) from err
        raise


def _unregistered_safe_globals() -> list:
    """The :data:`SAFE_GLOBALS` entries not yet in torch's allow-list.

    ``torch.serialization.safe_globals`` removes its entries on exit, so it
    must only get those missing; otherwise a ``load_file`` call would undo
    :func:`register_safe_globals`.
    """
    registered = set(torch.serialization.get_safe_globals())
    return [entry for entry in SAFE_GLOBALS if entry not in registered]


def _last_line(message: str) -> str:
    """The most specific line of torch's multi-line unpickling message."""
    lines = [line for line in message.splitlines() if line.strip()]
    specific = [
        line for line in lines if 'Weights only load failed' not in line
        and 'Check the documentation' not in line
    ]
    return (specific or lines or [''])[-1]


# --------------------------------------------------------------------------
# Finding and loading state dicts
# --------------------------------------------------------------------------
# Where checkpoints keep their weights: mmaction2 / mmengine / mmvid,
# PySlowFast (.pyth), and other trainers.
_STATE_DICT_KEYS = ('state_dict', 'model_state', 'model')
_WRAPPER_PREFIX = 'module.'


def _is_bare_state_dict(obj: Any) -> bool:
    return (isinstance(obj, Mapping) and len(obj) > 0
            and all(isinstance(value, Tensor) for value in obj.values()))


def _strip_wrapper_prefix(state_dict: Mapping) -> 'OrderedDict[str, Tensor]':
    """Drop a leading ``module.`` (DataParallel / DDP) from every key."""
    n = len(_WRAPPER_PREFIX)
    stripped = OrderedDict(
        (key[n:] if key.startswith(_WRAPPER_PREFIX) else key, value)
        for key, value in state_dict.items())
    metadata = getattr(state_dict, '_metadata', None)
    if metadata is not None:
        stripped._metadata = OrderedDict(  # type: ignore[attr-defined]
            (_strip_module_path(key), value)
            for key, value in metadata.items())
    return stripped


def _strip_module_path(prefix: str) -> str:
    """``'module.fc'`` -> ``'fc'`` and ``'module'`` -> ``''``."""
    if prefix == _WRAPPER_PREFIX[:-1]:
        return ''
    if prefix.startswith(_WRAPPER_PREFIX):
        return prefix[len(_WRAPPER_PREFIX):]
    return prefix


def get_state_dict(
        checkpoint: Any,
        filename: str = '<checkpoint>') -> 'OrderedDict[str, Tensor]':
    """The model weights in a loaded checkpoint.

    Args:
        checkpoint: What :func:`load_file` returned: a dict with
            ``'state_dict'`` (mmaction2 0.x/1.x, mmengine, mmvid),
            ``'model_state'`` (PySlowFast) or ``'model'``, or a bare
            state dict (a mapping of tensors).
        filename: Used in error messages.

    Returns:
        The state dict, with a leading ``module.`` removed from every key.

    Raises:
        CheckpointError: if no state dict is found.
    """
    if isinstance(checkpoint, Mapping):
        for key in _STATE_DICT_KEYS:
            if key in checkpoint and isinstance(checkpoint[key], Mapping):
                return _strip_wrapper_prefix(checkpoint[key])
        if _is_bare_state_dict(checkpoint):
            return _strip_wrapper_prefix(checkpoint)
        found = f'its top-level keys are {list(checkpoint)[:_MAX_LISTED]}'
        if len(checkpoint) > _MAX_LISTED:
            found += f' ... and {len(checkpoint) - _MAX_LISTED} more'
    else:
        found = f'it holds a {type(checkpoint).__name__}, not a dict'
    raise CheckpointError(
        f'no state dict in {filename}: {found}; expected one of '
        f'{list(_STATE_DICT_KEYS)} or a mapping of parameter names to '
        'tensors')


def _abbreviate(items: Sequence[str], limit: int = _MAX_LISTED) -> str:
    """``'a, b, c ... and 7 more'``."""
    text = ', '.join(items[:limit])
    if len(items) > limit:
        text += f' ... and {len(items) - limit} more'
    return text


def _shape_mismatches(state_dict: Mapping, model_state: Mapping) -> List[str]:
    """``'key: checkpoint shape [a, b] vs model shape [c, d]'`` lines."""
    lines = []
    for key, value in state_dict.items():
        target = model_state.get(key)
        if (isinstance(value, Tensor) and isinstance(target, Tensor)
                and value.shape != target.shape):
            lines.append(f'{key}: checkpoint shape {list(value.shape)} vs '
                         f'model shape {list(target.shape)}')
    return lines


def _load_summary(source: str, num_loaded: int, num_total: int,
                  missing: List[str], unexpected: List[str]) -> str:
    lines = [f'loaded {num_loaded}/{num_total} tensors from {source}']
    if missing:
        lines.append(f'missing keys ({len(missing)}): {_abbreviate(missing)}')
    if unexpected:
        lines.append(f'unexpected keys ({len(unexpected)}): '
                     f'{_abbreviate(unexpected)}')
    return '\n'.join(lines)


def load_state_dict(
        module: nn.Module,
        state_dict: Mapping,
        strict: bool = False,
        logger: Union[str, MMLogger, None] = 'current',
        source: str = '<state_dict>') -> Tuple[List[str], List[str]]:
    """Copy ``state_dict`` into ``module``, never skipping a shape mismatch.

    Every problem is checked before any weight is copied, so an error leaves
    ``module`` unchanged. Missing keys are model entries the state dict lacks
    (``num_batches_tracked`` included); unexpected keys are entries the model
    does not have.

    Args:
        module: The model.
        state_dict: Parameter name to tensor.
        strict: Raise if any key is missing or unexpected.
        logger: Where the summary goes, see ``mmengine.logging.print_log``.
        source: Names the state dict (a file name) in messages.

    Returns:
        ``(missing_keys, unexpected_keys)``.

    Raises:
        CheckpointError: if a tensor's shape differs from the model's, or,
            with ``strict``, if a key is missing or unexpected.
    """
    model_state = module.state_dict()
    mismatches = _shape_mismatches(state_dict, model_state)
    if mismatches:
        raise CheckpointError(
            f'cannot load {source}: {len(mismatches)} tensor(s) differ in '
            'shape from the model:\n  ' +
            '\n  '.join(mismatches[:_MAX_LISTED]) +
            (f'\n  ... and {len(mismatches) - _MAX_LISTED} more'
             if len(mismatches) > _MAX_LISTED else ''))
    missing = [key for key in model_state if key not in state_dict]
    unexpected = [key for key in state_dict if key not in model_state]
    summary = _load_summary(source,
                            len(model_state) - len(missing), len(model_state),
                            missing, unexpected)
    if strict and (missing or unexpected):
        raise CheckpointError(f'strict loading failed: {summary}')
    # A copy: BatchNorm's loader adds num_batches_tracked to the dict it gets.
    to_load = OrderedDict(state_dict)
    metadata = getattr(state_dict, '_metadata', None)
    if metadata is not None:
        to_load._metadata = metadata  # type: ignore[attr-defined]
    module.load_state_dict(to_load, strict=False)
    level = logging.WARNING if missing or unexpected else logging.INFO
    print_log(summary, logger=logger, level=level)
    return missing, unexpected


def load_checkpoint(model: nn.Module,
                    filename: str,
                    strict: bool = False,
                    logger: Union[str, MMLogger, None] = 'current',
                    map_location: Any = 'cpu') -> Dict[str, Any]:
    """Load the weights of a checkpoint file into ``model``.

    Args:
        model: The model.
        filename: A local checkpoint (see :func:`resolve_pretrained` for
            ``torchvision://`` names and URLs).
        strict: Raise if any key is missing or unexpected.
        logger: Where the summary goes, see ``mmengine.logging.print_log``.
        map_location: Passed to ``torch.load``.

    Returns:
        The whole checkpoint (``meta`` and so on), as read by
        :func:`load_file`.

    Raises:
        FileNotFoundError: if the file does not exist.
        CheckpointError: see :func:`load_file`, :func:`get_state_dict` and
            :func:`load_state_dict`.
    """
    checkpoint = load_file(filename, map_location=map_location)
    state_dict = get_state_dict(checkpoint, filename)
    load_state_dict(model,
                    state_dict,
                    strict=strict,
                    logger=logger,
                    source=filename)
    return checkpoint


# --------------------------------------------------------------------------
# Pretrained weights: local files only
# --------------------------------------------------------------------------
_TORCHVISION_ROOT = 'https://download.pytorch.org/models/'
#: torchvision ImageNet weights by model name, the preferred file first.
TORCHVISION_URLS: Dict[str, List[str]] = {
    name: [_TORCHVISION_ROOT + file for file in files]
    for name, files in {
        'resnet18': ['resnet18-f37072fd.pth'],
        'resnet34': ['resnet34-b627a593.pth'],
        'resnet50': ['resnet50-0676ba61.pth', 'resnet50-19c8e357.pth'],
        'resnet101': ['resnet101-63fe2227.pth'],
        'resnet152': ['resnet152-394f9c45.pth'],
    }.items()
}
_TORCHVISION_SCHEME = 'torchvision://'
_URL_SCHEMES = ('http://', 'https://')
#: Names a folder of downloaded weights, searched before the others.
CHECKPOINTS_ENV = 'MMVID_CHECKPOINTS'


def _checkpoint_dirs() -> List[str]:
    """Folders searched for weights, in order.

    ``$MMVID_CHECKPOINTS`` (if set), ``./checkpoints`` and
    ``<torch hub dir>/checkpoints``.
    """
    dirs = []
    if os.environ.get(CHECKPOINTS_ENV):
        dirs.append(osp.expanduser(os.environ[CHECKPOINTS_ENV]))
    dirs.append(osp.abspath('checkpoints'))
    dirs.append(osp.join(torch.hub.get_dir(), 'checkpoints'))
    return dirs


def _find_file(basenames: Sequence[str]) -> Optional[str]:
    """The first ``dir/basename`` that exists (basenames may be globs)."""
    for folder in _checkpoint_dirs():
        for basename in basenames:
            found = sorted(glob.glob(osp.join(glob.escape(folder), basename)))
            if found:
                return found[0]
    return None


def _never_downloads(name: str, what: str) -> FileNotFoundError:
    dirs = _checkpoint_dirs()
    return FileNotFoundError(
        f'pretrained={name!r}: mmvid never downloads weights; {what}, and '
        f'put it in {dirs[0]} (searched: {", ".join(dirs)})')


def _resolve_torchvision(name: str) -> str:
    model = name[len(_TORCHVISION_SCHEME):]
    urls = TORCHVISION_URLS.get(model, [])
    basenames = [osp.basename(url) for url in urls]
    found = _find_file(basenames + [f'{model}-*.pth'])
    if found:
        return found
    if not urls:
        raise _never_downloads(
            name, f'mmvid knows no URL for {model!r} (known: '
            f'{", ".join(TORCHVISION_URLS)}); get its torchvision file, '
            f'named {model}-<hash>.pth')
    what = f'download {urls[0]}'
    if len(basenames) > 1:
        what += f' (or {", ".join(basenames[1:])})'
    raise _never_downloads(name, what)


def _resolve_url(url: str) -> str:
    basename = osp.basename(url.split('?', 1)[0].rstrip('/'))
    found = _find_file([glob.escape(basename)]) if basename else None
    if found:
        return found
    raise _never_downloads(url, f'download {url} yourself as {basename}')


def resolve_pretrained(name: str) -> str:
    """The local file for a ``pretrained`` setting; nothing is downloaded.

    Args:
        name: A local path, ``torchvision://<model>`` (e.g.
            ``torchvision://resnet50``) or an ``http(s)://`` URL. Names and
            URLs are looked up by file name in ``$MMVID_CHECKPOINTS``,
            ``./checkpoints`` and ``<torch hub dir>/checkpoints``.

    Returns:
        The path of an existing file.

    Raises:
        FileNotFoundError: if the file is absent; for names and URLs the
            message gives the URL to download and the folder to put it in.
        ValueError: for another ``scheme://``.
    """
    if name.startswith(_TORCHVISION_SCHEME):
        return _resolve_torchvision(name)
    if name.startswith(_URL_SCHEMES):
        return _resolve_url(name)
    if re.match(r'^[a-zA-Z][\w+.-]*://', name):
        raise ValueError(
            f'pretrained={name!r}: unsupported scheme; use a local path, '
            'torchvision://<model> or an http(s):// URL')
    path = osp.expanduser(name)
    if not osp.exists(path):
        raise FileNotFoundError(f'pretrained file not found: {path}')
    return path
