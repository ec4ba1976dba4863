"""RawFrameDecode: exact PNG frames, JPEG frames equal to cv2.imread,
offsets and templates, each distinct frame decoded once, one-line
``BadSampleError`` for missing and corrupt frames, turbojpeg's install
message, and the key contract."""
import pickle
import sys
import types

import cv2
import numpy as np
import pytest

from mmvid.datasets.errors import BadSampleError
from mmvid.datasets.transforms.rawframe_decode import RawFrameDecode
from tests.datasets.video_fixtures import (patterned_frames, random_frames,
                                           write_frame_dir)

BACKENDS = ['cv2', 'pillow']


def sample(frame_dir, inds, filename_tmpl='img_{:05}.jpg', **extra):
    return dict(frame_dir=str(frame_dir), filename_tmpl=filename_tmpl,
                frame_inds=np.asarray(inds, dtype=np.int64), **extra)


@pytest.fixture(scope='module')
def png_dir(tmp_path_factory):
    frame_dir = tmp_path_factory.mktemp('png')
    frames = random_frames(6, 40, 56, seed=3)
    write_frame_dir(frame_dir, frames, 'img_{:05}.png')
    return frame_dir, frames


@pytest.fixture(scope='module')
def jpg_dir(tmp_path_factory):
    frame_dir = tmp_path_factory.mktemp('jpg')
    frames = patterned_frames(6, 40, 56)
    paths = write_frame_dir(frame_dir, frames, 'img_{:05}.jpg')
    return frame_dir, paths


@pytest.mark.parametrize('backend', BACKENDS)
def test_png_frames_are_exact(png_dir, backend):
    frame_dir, frames = png_dir
    inds = [1, 3, 3, 6, 2]
    results = RawFrameDecode(backend)(
        sample(frame_dir, inds, 'img_{:05}.png'))
    assert len(results['imgs']) == len(inds)
    for img, index in zip(results['imgs'], inds):
        assert img.dtype == np.uint8 and img.shape == (40, 56, 3)
        np.testing.assert_array_equal(img, frames[index - 1])
    assert results['original_shape'] == results['img_shape'] == (40, 56)


@pytest.mark.parametrize('backend', BACKENDS)
def test_frame_inds_of_any_shape_are_flattened(png_dir, backend):
    """``[N, 1]`` (mmaction2 1.x samplers) or ``[clips, clip_len]`` indices
    give the frames of the flattened (C-order) ones."""
    frame_dir, frames = png_dir
    inds = np.array([2, 6, 6, 1])
    for shaped in (inds[:, None], inds.reshape(2, 2)):
        results = RawFrameDecode(backend)(
            sample(frame_dir, shaped, 'img_{:05}.png'))
        assert len(results['imgs']) == 4
        for img, index in zip(results['imgs'], inds):
            np.testing.assert_array_equal(img, frames[index - 1])
    with pytest.raises(ValueError, match='non-empty array'):
        RawFrameDecode(backend)(sample(frame_dir, np.zeros((2, 0), int)))


@pytest.mark.parametrize('backend', BACKENDS)
def test_jpeg_frames_equal_cv2_imread(jpg_dir, backend):
    """cv2 is bit-exact to cv2.imread; Pillow's libjpeg may round a little
    differently (observed identical with Pillow 13 / OpenCV 5)."""
    frame_dir, paths = jpg_dir
    inds = [5, 1, 4]
    imgs = RawFrameDecode(backend)(sample(frame_dir, inds))['imgs']
    for img, index in zip(imgs, inds):
        expected = cv2.cvtColor(cv2.imread(paths[index - 1]),
                                cv2.COLOR_BGR2RGB)
        if backend == 'cv2':
            np.testing.assert_array_equal(img, expected)
        else:
            assert np.abs(img.astype(int) - expected).mean() < 1.0


def test_grey_png_becomes_rgb(tmp_path):
    grey = np.arange(12 * 10, dtype=np.uint8).reshape(12, 10)
    assert cv2.imwrite(str(tmp_path / 'img_00001.png'), grey)
    for backend in BACKENDS:
        img = RawFrameDecode(backend)(
            sample(tmp_path, [1], 'img_{:05}.png'))['imgs'][0]
        np.testing.assert_array_equal(img, np.stack([grey] * 3, -1))


def test_offset_and_filename_tmpl(tmp_path):
    frames = random_frames(4, 8, 8, seed=4)
    write_frame_dir(tmp_path, frames, 'frame-{}.png', first_index=11)
    results = RawFrameDecode()(
        sample(tmp_path, [3, 1], 'frame-{}.png', offset=10))
    np.testing.assert_array_equal(results['imgs'][0], frames[2])
    np.testing.assert_array_equal(results['imgs'][1], frames[0])


@pytest.mark.parametrize('backend', BACKENDS)
def test_repeated_indices_decode_once(png_dir, backend, monkeypatch):
    frame_dir, frames = png_dir
    opened = []
    real_open = open

    def counting_open(path, *args, **kwargs):
        opened.append(str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr('builtins.open', counting_open)
    inds = [2, 2, 5, 2, 5]
    imgs = RawFrameDecode(backend)(
        sample(frame_dir, inds, 'img_{:05}.png'))['imgs']
    monkeypatch.undo()
    assert sorted(opened) == [str(frame_dir / 'img_00002.png'),
                              str(frame_dir / 'img_00005.png')]
    imgs[0][:] = 0
    for img, index in zip(imgs[1:], inds[1:]):
        np.testing.assert_array_equal(img, frames[index - 1])


@pytest.mark.parametrize('backend', BACKENDS)
def test_missing_frame(tmp_path, backend):
    write_frame_dir(tmp_path, random_frames(4, 8, 8), 'img_{:05}.jpg')
    missing = tmp_path / 'img_00003.jpg'
    missing.unlink()
    with pytest.raises(BadSampleError) as error:
        RawFrameDecode(backend)(sample(tmp_path, [1, 3]))
    message = str(error.value)
    assert message == f'missing frame 3 ({missing}, backend {backend})'


def test_missing_frame_directory(tmp_path):
    folder = tmp_path / 'no_such_video'
    with pytest.raises(BadSampleError) as error:
        RawFrameDecode()(sample(folder, [1, 3]))
    assert str(error.value) == (
        f'no such frame directory: {folder} (needed for frame 1 '
        f'({folder / "img_00001.jpg"}, backend cv2))')


@pytest.mark.parametrize('backend', BACKENDS)
@pytest.mark.parametrize('content', [
    np.random.default_rng(5).bytes(3000),
    b'',
])
def test_corrupt_frame(tmp_path, backend, content):
    write_frame_dir(tmp_path, random_frames(2, 8, 8), 'img_{:05}.jpg')
    corrupt = tmp_path / 'img_00002.jpg'
    corrupt.write_bytes(content)
    with pytest.raises(BadSampleError) as error:
        RawFrameDecode(backend)(sample(tmp_path, [1, 2]))
    message = str(error.value)
    assert '\n' not in message
    assert f'frame 2 ({corrupt}, backend {backend})' in message
    assert message.startswith('empty file' if not content else
                              'could not decode')


def test_turbojpeg_missing_package(monkeypatch):
    monkeypatch.setitem(sys.modules, 'turbojpeg', None)
    with pytest.raises(ImportError) as error:
        RawFrameDecode('turbojpeg')
    message = str(error.value)
    assert 'pip install PyTurboJPEG' in message
    assert 'libturbojpeg' in message and 'package is missing' in message


def fake_turbojpeg(library_found=True):
    """A stand-in for PyTurboJPEG: ``decode`` returns OpenCV's RGB decode
    and records the pixel format it was asked for."""
    module = types.ModuleType('turbojpeg')
    module.TJPF_RGB = 0
    module.requested = []

    class TurboJPEG:

        def __init__(self):
            if not library_found:
                raise RuntimeError('Unable to locate turbojpeg library')

        def decode(self, data, pixel_format):
            module.requested.append(pixel_format)
            bgr = cv2.imdecode(np.frombuffer(data, np.uint8),
                               cv2.IMREAD_COLOR)
            return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    module.TurboJPEG = TurboJPEG
    return module


def test_turbojpeg_missing_library(monkeypatch):
    monkeypatch.setitem(sys.modules, 'turbojpeg', fake_turbojpeg(False))
    with pytest.raises(ImportError,
                       match='library could not be loaded .Unable to locate'):
        RawFrameDecode('turbojpeg')


def test_turbojpeg_decodes_rgb_and_pickles(jpg_dir, monkeypatch):
    fake = fake_turbojpeg()
    monkeypatch.setitem(sys.modules, 'turbojpeg', fake)
    frame_dir, paths = jpg_dir
    transform = RawFrameDecode('turbojpeg')
    img = transform(sample(frame_dir, [2]))['imgs'][0]
    np.testing.assert_array_equal(
        img, cv2.cvtColor(cv2.imread(paths[1]), cv2.COLOR_BGR2RGB))
    assert fake.requested == [fake.TJPF_RGB]
    # a worker gets a copy without the ctypes handle and makes its own
    clone = pickle.loads(pickle.dumps(transform))
    assert clone._turbojpeg is None
    clone(sample(frame_dir, [3]))
    assert clone._turbojpeg is not None and len(fake.requested) == 2


def test_contract(png_dir):
    frame_dir, _ = png_dir
    transform = RawFrameDecode()
    for key in ['frame_dir', 'filename_tmpl', 'frame_inds']:
        results = sample(frame_dir, [1], 'img_{:05}.png')
        del results[key]
        with pytest.raises(KeyError, match=key):
            transform(results)
    results = transform(sample(frame_dir, [1], 'img_{:05}.png'))
    assert set(RawFrameDecode.added_keys) <= set(results)
    with pytest.raises(ValueError, match="modality 'RGB' only"):
        transform(sample(frame_dir, [1], 'img_{:05}.png', modality='Flow'))
    with pytest.raises(ValueError, match='negative index'):
        transform(sample(frame_dir, [-1], 'img_{:05}.png'))


@pytest.mark.parametrize('kwargs, text', [
    (dict(decoding_backend='PIL'), 'decoding_backend'),
    (dict(io_backend='ceph'), 'io_backend'),
])
def test_constructor_validation(kwargs, text):
    with pytest.raises(ValueError, match=text):
        RawFrameDecode(**kwargs)
