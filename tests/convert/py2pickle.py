"""Pickles as Python 2's ``cPickle.dump(obj, f, 2)`` writes them.

Python 2 ``str`` (bytes) is written as ``SHORT_BINSTRING`` / ``BINSTRING``,
so a numpy array's raw data and every dict key is a byte string: Python 3's
``pickle.load`` fails on them by default (it decodes them as ASCII) and
reads them with ``encoding='latin1'``. Arrays reduce as
``numpy.core.multiarray._reconstruct(numpy.ndarray, (0,), 'b')`` with the
state ``(1, shape, dtype, is_fortran, raw)``, as numpy 1.x under Python 2
does; numpy scalars as ``numpy.core.multiarray.scalar(dtype, raw)``.
"""
import struct

import numpy as np

PROTO_2 = b'\x80\x02'
MARK, STOP, TUPLE, BUILD, REDUCE = b'(', b'.', b't', b'b', b'R'
TUPLE1, TUPLE2, TUPLE3 = b'\x85', b'\x86', b'\x87'
EMPTY_DICT, SETITEMS, NONE = b'}', b'u', b'N'
NEWTRUE, NEWFALSE = b'\x88', b'\x89'
EMPTY_TUPLE = b')'


def py2_str(data: bytes) -> bytes:
    """A Python 2 ``str``: ``SHORT_BINSTRING`` or ``BINSTRING``."""
    if len(data) < 256:
        return b'U' + bytes([len(data)]) + data
    return b'T' + struct.pack('<i', len(data)) + data


def _int(value: int) -> bytes:
    if 0 <= value < 256:
        return b'K' + bytes([value])
    if -2**31 <= value < 2**31:
        return b'J' + struct.pack('<i', value)
    raise ValueError(f'int out of range: {value}')


def _global(module: str, name: str) -> bytes:
    return b'c' + module.encode() + b'\n' + name.encode() + b'\n'


def _dtype(dtype: np.dtype) -> bytes:
    """``numpy.dtype('f4', 0, 1)`` with its Python 2 state."""
    order = dtype.str[0] if dtype.str[0] in '<>' else '|'
    return (_global('numpy', 'dtype') + py2_str(dtype.str[1:].encode()) +
            _int(0) + _int(1) + TUPLE3 + REDUCE + MARK + _int(3) +
            py2_str(order.encode()) + NONE + NONE + NONE + _int(-1) +
            _int(-1) + _int(0) + TUPLE + BUILD)


def _array(array: np.ndarray) -> bytes:
    array = np.ascontiguousarray(array)
    reconstruct = (_global('numpy.core.multiarray', '_reconstruct') +
                   _global('numpy', 'ndarray') + _int(0) + TUPLE1 +
                   py2_str(b'b') + TUPLE3 + REDUCE)
    shape = (MARK + b''.join(_int(d) for d in array.shape) +
             TUPLE) if array.shape else EMPTY_TUPLE
    state = (MARK + _int(1) + shape + _dtype(array.dtype) + NEWFALSE +
             py2_str(array.tobytes()) + TUPLE)
    return reconstruct + state + BUILD


def _scalar(value: np.generic) -> bytes:
    return (_global('numpy.core.multiarray', 'scalar') + _dtype(value.dtype) +
            py2_str(value.tobytes()) + TUPLE2 + REDUCE)


def _obj(obj) -> bytes:
    if isinstance(obj, dict):
        items = b''.join(_obj(k) + _obj(v) for k, v in obj.items())
        return EMPTY_DICT + (MARK + items + SETITEMS if obj else b'')
    if isinstance(obj, np.ndarray):
        return _array(obj)
    if isinstance(obj, np.generic):
        return _scalar(obj)
    if isinstance(obj, bool):
        return NEWTRUE if obj else NEWFALSE
    if isinstance(obj, int):
        return _int(obj)
    if isinstance(obj, float):
        return b'G' + struct.pack('>d', obj)
    if isinstance(obj, str):
        return py2_str(obj.encode('latin1'))
    raise TypeError(f'cannot write a {type(obj).__name__}')


def dumps(obj) -> bytes:
    """``obj`` (dicts with str keys, arrays, numpy scalars, numbers, str)
    pickled as Python 2 would at protocol 2."""
    return PROTO_2 + _obj(obj) + STOP


def dump(obj, path) -> None:
    with open(path, 'wb') as file:
        file.write(dumps(obj))
