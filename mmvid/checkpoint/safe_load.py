"""Reading checkpoint files with ``weights_only=True`` and an allow-list."""
import importlib
import os.path as osp
import pickle
import re
import struct
from typing import Any, Callable, List, Optional
from typing import Tuple, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmengine.utils import digit_version

from .errors import CheckpointError

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
        "on mmvid's allow-list of safe types (tensors, numbers, strings, "
        'containers, numpy arrays, mmengine log buffers); unpickling it may '
        'execute code. Checkpoints written by mmvid, mmengine and mmaction2 '
        'never need it: use a checkpoint from a source you trust')


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
