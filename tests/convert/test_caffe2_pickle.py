"""Reading Caffe2 .pkl files: Python 2 pickles, and nothing else runs."""
import os.path as osp
import pickle
import zipfile

import numpy as np
import pytest
import torch

from mmvid.checkpoint import CheckpointError
from mmvid.convert import load_caffe2_pickle

from . import py2pickle


def blobs():
    rng = np.random.default_rng(0)
    return {
        'conv1_w': rng.standard_normal((4, 3, 5, 7, 7)).astype(np.float32),
        'res_conv1_bn_riv': rng.uniform(0.5, 1.5, 4).astype(np.float32),
        'pred_b': np.arange(3, dtype=np.float64),
        'big_endian': np.arange(6, dtype='>f4').reshape(2, 3),
        'lr': np.float32(0.01),
        'model_iter': 400000,
    }


def assert_same_blobs(actual, expected):
    assert list(actual) == list(expected)
    for name, value in expected.items():
        assert np.array_equal(np.asarray(actual[name]), value), name
        if isinstance(value, np.ndarray):
            assert actual[name].dtype == value.dtype.newbyteorder('='), name


def test_python2_pickle_needs_latin1_and_loads(tmp_path):
    path = tmp_path / 'model.pkl'
    py2pickle.dump({'blobs': blobs()}, path)
    data = path.read_bytes()
    # the file really is a Python 2 pickle: byte strings that a plain
    # Python 3 load cannot decode, numpy.core names
    assert b'cnumpy.core.multiarray\n_reconstruct\n' in data
    with pytest.raises(UnicodeDecodeError):
        pickle.loads(data)
    assert_same_blobs(load_caffe2_pickle(str(path)), blobs())


def test_flat_dict_without_blobs_key(tmp_path):
    """modify_caffe2_ftvideo.py writes the blobs at the top level."""
    path = tmp_path / 'affine_model_400k.pkl'
    py2pickle.dump(blobs(), path)
    assert_same_blobs(load_caffe2_pickle(str(path)), blobs())


@pytest.mark.parametrize('protocol', [2, 4])
def test_python3_pickles_load_too(tmp_path, protocol):
    """Python 3 writes bytes at protocol 2 as _codecs.encode(.., 'latin1')."""
    path = tmp_path / 'py3.pkl'
    with open(path, 'wb') as file:
        pickle.dump({'blobs': blobs()}, file, protocol=protocol)
    assert_same_blobs(load_caffe2_pickle(str(path)), blobs())


PAYLOADS = {
    'os.system': b"cos\nsystem\n(S'touch {marker}'\ntR.",
    'posix.system': b"cposix\nsystem\n(S'touch {marker}'\ntR.",
    'builtins.eval': (b"c__builtin__\neval\n(S'open(\"{marker}\", \"w\")'\n"
                      b"tR."),
}


@pytest.mark.parametrize('culprit', sorted(PAYLOADS))
def test_tampered_pickle_is_refused_and_never_runs(tmp_path, culprit):
    marker = tmp_path / 'pwned'
    payload = PAYLOADS[culprit].replace(b'{marker}', str(marker).encode())
    # the payload sits where a blob would be, inside a valid blob dict
    path = tmp_path / 'i3d_baseline_32x2_IN_pretrain_400k.pkl'
    good = py2pickle.dumps({'blobs': {'lr': np.float32(0.1)}})
    path.write_bytes(good[:-3] + py2pickle.py2_str(b'conv1_w') +
                     payload[:-1] + b'uu.')
    with pytest.raises(CheckpointError) as info:
        load_caffe2_pickle(str(path))
    message = str(info.value)
    module = '__builtin__.eval' if culprit == 'builtins.eval' else culprit
    assert message.startswith(f'refusing to load {path}: the pickle '
                              f'references {module}, ')
    assert 'only numpy arrays and scalars are allowed' in message
    assert not marker.exists()


def test_codecs_encode_only_for_latin1(tmp_path):
    path = tmp_path / 'codec.pkl'
    path.write_bytes(b"\x80\x02c_codecs\nencode\nX\x03\x00\x00\x00abcX\x04"
                     b"\x00\x00\x00idna\x86R.")
    with pytest.raises(CheckpointError, match='not a Caffe2 pickle'):
        load_caffe2_pickle(str(path))


def test_truncated_and_garbage_files(tmp_path):
    path = tmp_path / 'cut.pkl'
    path.write_bytes(py2pickle.dumps({'blobs': blobs()})[:500])
    with pytest.raises(CheckpointError,
                       match=r'^cannot read .*cut\.pkl: not a Caffe2 pickle '
                       'or truncated'):
        load_caffe2_pickle(str(path))
    path.write_bytes(b'\x80\x02K\x05.')  # an int, no dict
    with pytest.raises(CheckpointError, match=r'it holds a int, expected'):
        load_caffe2_pickle(str(path))


def test_torch_file_is_not_a_caffe2_pickle(tmp_path):
    path = tmp_path / 'I3D_8x8_R50.pyth'
    torch.save({'model_state': {'w': torch.ones(1)}}, path)
    assert zipfile.is_zipfile(path)
    with pytest.raises(CheckpointError, match='it is a torch checkpoint'):
        load_caffe2_pickle(str(path))


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_caffe2_pickle(osp.join(str(tmp_path), 'absent.pkl'))
