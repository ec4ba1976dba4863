"""Reading Caffe2 ``.pkl`` blob files without letting them run code.

video-nonlocal-net and the PySlowFast model zoo save their weights with
Python 2's ``cPickle`` (protocol 2): ``{'blobs': {name: ndarray}}``, or a
flat ``{name: ndarray}`` for the frozen-BN files written by
``modify_caffe2_ftvideo.py``. Arrays pickle as
``numpy.core.multiarray._reconstruct(numpy.ndarray, (0,), 'b')`` plus a
state with the raw bytes, which Python 2 stored as ``str``; Python 3 reads
those only with ``encoding='latin1'``.

A pickle may name any importable callable (``os.system``) and call it.
:class:`Caffe2Unpickler` resolves only the few globals that numpy arrays and
scalars need and refuses everything else before it is imported, let alone
called.
"""
import _codecs
import builtins
import collections
import os.path as osp
import pickle
import zipfile
from typing import Any, Callable, Dict

import numpy as np

from mmvid.checkpoint.errors import CheckpointError
from mmvid.checkpoint.safe_load import _MULTIARRAY


def _latin1_encode(text: str, encoding: str = 'utf-8',
                   errors: str = 'strict') -> bytes:
    """A ``_codecs.encode`` that only encodes to latin-1.

    Python 3 pickles ``bytes`` at protocol 2 as
    ``_codecs.encode(<latin-1 text>, 'latin1')``; other codecs are refused.
    """
    if encoding.lower().replace('_', '-') not in ('latin1', 'latin-1'):
        raise pickle.UnpicklingError(
            f'_codecs.encode(..., {encoding!r}) is not allowed; only latin1')
    return _codecs.encode(text, encoding, errors)


#: ``(module, name)`` in the pickle -> the object it may resolve to.
ALLOWED_GLOBALS: Dict[tuple, Callable] = {
    # numpy arrays (numpy 1.x writes numpy.core, numpy 2.x numpy._core)
    ('numpy.core.multiarray', '_reconstruct'): _MULTIARRAY._reconstruct,
    ('numpy._core.multiarray', '_reconstruct'): _MULTIARRAY._reconstruct,
    ('numpy', 'ndarray'): np.ndarray,
    ('numpy', 'dtype'): np.dtype,
    # numpy scalars (lr, model_iter)
    ('numpy.core.multiarray', 'scalar'): _MULTIARRAY.scalar,
    ('numpy._core.multiarray', 'scalar'): _MULTIARRAY.scalar,
    # containers; protocol 2 builds dicts and lists with opcodes, these
    # cover other writers (Python 2 names them __builtin__)
    **{(module, name): getattr(builtins, name)
       for module in ('builtins', '__builtin__')
       for name in ('dict', 'list', 'tuple', 'set', 'frozenset')},
    ('collections', 'OrderedDict'): collections.OrderedDict,
    # bytes in a Python 3 protocol-2 pickle
    ('_codecs', 'encode'): _latin1_encode,
}


class _RefusedGlobal(pickle.UnpicklingError):
    """A global outside :data:`ALLOWED_GLOBALS`."""

    def __init__(self, module: str, name: str) -> None:
        super().__init__(f'{module}.{name}')
        self.culprit = f'{module}.{name}'


class Caffe2Unpickler(pickle.Unpickler):
    """An unpickler that resolves only :data:`ALLOWED_GLOBALS`.

    Construct it with ``encoding='latin1'`` for Python 2 pickles.
    """

    def find_class(self, module: str, name: str) -> Any:
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise _RefusedGlobal(module, name) from None

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError(
            'persistent ids (torch storages) are not Caffe2 blobs')


def load_caffe2_pickle(filename: str) -> Dict[str, Any]:
    """The blobs of a Caffe2 ``.pkl`` file.

    Args:
        filename: A pickle of ``{'blobs': {name: value}}`` or of a flat
            ``{name: value}`` (values: numpy arrays or scalars).

    Returns:
        ``{name: value}``; for a ``{'blobs': ...}`` file only the blobs.

    Raises:
        FileNotFoundError: if the file does not exist.
        CheckpointError: if the pickle names a global that numpy arrays do
            not need (nothing of it has run), is truncated or not a pickle,
            or holds no dict of blobs.
    """
    filename = osp.expanduser(filename)
    if not osp.exists(filename):
        raise FileNotFoundError(f'checkpoint file not found: {filename}')
    if zipfile.is_zipfile(filename):
        raise CheckpointError(
            f'cannot read {filename} as a Caffe2 pickle: it is a torch '
            'checkpoint (a zip file); use the PySlowFast, PyTorchVideo or '
            'Tushar-N converter')
    try:
        with open(filename, 'rb') as file:
            obj = Caffe2Unpickler(file, encoding='latin1').load()
    except _RefusedGlobal as err:
        raise CheckpointError(
            f'refusing to load {filename}: the pickle references '
            f'{err.culprit}, which a Caffe2 blob file never needs (only numpy '
            'arrays and scalars are allowed); it may execute code') from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError,
            KeyError, IndexError, AttributeError, UnicodeDecodeError,
            MemoryError) as err:
        raise CheckpointError(
            f'cannot read {filename}: not a Caffe2 pickle or truncated '
            f'({type(err).__name__}: {str(err)[:200]})') from None
    return _blobs(obj, filename)


def _blobs(obj: Any, filename: str) -> Dict[str, Any]:
    """``obj['blobs']`` if present, else ``obj`` (a flat dict)."""
    if isinstance(obj, dict) and isinstance(obj.get('blobs'), dict):
        obj = obj['blobs']
    if not isinstance(obj, dict):
        raise CheckpointError(
            f'cannot convert {filename}: it holds a {type(obj).__name__}, '
            "expected {'blobs': {name: array}} or {name: array}")
    names = [name for name in obj if not isinstance(name, str)]
    if names:
        raise CheckpointError(
            f'cannot convert {filename}: blob names must be strings, found '
            f'{names[:3]!r}')
    return dict(obj)
