"""Video decoders (decord, OpenCV, PyAV): exact frames on lossless FFV1,
agreement on lossy mp4v, only the sampled frames decoded, one-line
``BadSampleError`` for every bad file, and the key contract."""
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from mmvid.datasets.errors import BadSampleError
from mmvid.datasets.transforms import exact_seek
from mmvid.datasets.transforms.decord_decode import DecordDecode, DecordInit
from mmvid.datasets.transforms.opencv_decode import OpenCVDecode, OpenCVInit
from mmvid.datasets.transforms.pyav_decode import PyAVDecode, PyAVInit
from mmvid.datasets.transforms.threads import limit_decoder_threads
from tests.datasets.video_fixtures import (truncate_file, write_ffv1_video,
                                           write_mp4v_video, write_video)

NUM_FRAMES = 60
# backend -> (Init class, Decode factory, name in messages)
BACKENDS = {
    'decord': (DecordInit, lambda: DecordDecode('accurate'), 'decord'),
    'opencv': (OpenCVInit, OpenCVDecode, 'OpenCV'),
    'pyav': (PyAVInit, lambda: PyAVDecode('accurate'), 'PyAV'),
    'pyav-efficient': (PyAVInit, lambda: PyAVDecode('efficient'), 'PyAV'),
}
EXACT_BACKENDS = list(BACKENDS)
INIT_BACKENDS = ['decord', 'opencv', 'pyav']


def init(backend, path):
    return BACKENDS[backend][0]()(dict(filename=str(path)))


def decode(backend, path, inds, reader_wrapper=None):
    results = init(backend, path)
    if reader_wrapper is not None:
        results['video_reader'] = reader_wrapper(results['video_reader'])
    results['frame_inds'] = np.asarray(inds, dtype=np.int64)
    return BACKENDS[backend][1]()(results)


def assert_one_line(error, *parts):
    message = str(error.value)
    assert '\n' not in message
    for part in parts:
        assert str(part) in message, (part, message)


@pytest.fixture(scope='module')
def videos(tmp_path_factory):
    root = tmp_path_factory.mktemp('videos')
    avi_frames = write_ffv1_video(root / 'ffv1.avi', NUM_FRAMES, seed=1)
    mkv_frames = write_ffv1_video(root / 'ffv1.mkv', NUM_FRAMES, seed=2)
    mp4_frames = write_mp4v_video(root / 'mp4v.mp4', NUM_FRAMES)
    return {
        'avi': (str(root / 'ffv1.avi'), avi_frames),
        'mkv': (str(root / 'ffv1.mkv'), mkv_frames),
        'mp4': (str(root / 'mp4v.mp4'), mp4_frames),
        'root': root,
    }


# ---------------------------------------------------------------- exactness
@pytest.mark.parametrize('container', ['avi', 'mkv'])
@pytest.mark.parametrize('backend', EXACT_BACKENDS)
@pytest.mark.parametrize('inds', [[3, 3, 0, 17, 5, 17, 59],
                                  [40, 2, 33, 11, 57, 30]])
def test_ffv1_frames_are_exact(videos, container, backend, inds):
    path, truth = videos[container]
    results = decode(backend, path, inds)
    assert results['total_frames'] == NUM_FRAMES
    assert results['avg_fps'] == 25.0
    assert len(results['imgs']) == len(inds)
    for img, index in zip(results['imgs'], inds):
        assert img.dtype == np.uint8 and img.shape == (48, 64, 3)
        np.testing.assert_array_equal(img, truth[index])
    assert results['original_shape'] == results['img_shape'] == (48, 64)
    assert results['video_reader'] is None


@pytest.mark.parametrize('backend', EXACT_BACKENDS)
def test_repeated_frames_do_not_alias(videos, backend):
    path, truth = videos['avi']
    imgs = decode(backend, path, [4, 4, 4])['imgs']
    imgs[0][:] = 0
    imgs[1] += 1
    np.testing.assert_array_equal(imgs[2], truth[4])
    assert not np.shares_memory(imgs[1], imgs[2])


@pytest.mark.parametrize('backend', EXACT_BACKENDS)
def test_frame_inds_of_any_shape_are_flattened(videos, backend):
    """mmaction2 1.x samplers may give ``[N, 1]`` or ``[clips, clip_len]``
    indices: the frames are those of the flattened (C-order) indices."""
    path, truth = videos['avi']
    inds = [3, 3, 0, 17, 5, 59]
    flat = decode(backend, path, inds)['imgs']
    for shape in ((6, 1), (2, 3), (1, 6)):
        shaped = decode(backend, path, np.reshape(inds, shape))['imgs']
        assert len(shaped) == 6
        for a, b, index in zip(shaped, flat, inds):
            np.testing.assert_array_equal(a, b)
            np.testing.assert_array_equal(a, truth[index])


def test_mp4v_backends_agree(videos):
    """Lossy mp4v: every backend returns the very same decoded frames
    (observed bit-exact with decord 0.6.0, OpenCV 5.0.0, PyAV 18.1.0),
    close to the frames written."""
    path, written = videos['mp4']
    inds = [0, 7, 7, 31, 12, 59]
    reference = decode('decord', path, inds)['imgs']
    for backend in ['opencv', 'pyav', 'pyav-efficient']:
        for got, want in zip(decode(backend, path, inds)['imgs'], reference):
            np.testing.assert_array_equal(got, want)
    for img, index in zip(reference, inds):
        diff = np.abs(img.astype(int) - written[index])
        assert diff.mean() < 3.0


def test_decord_efficient_mode_is_inexact_between_key_frames(videos):
    """'efficient' seeks to key frames: exact at key frames and for
    consecutive reads from one, otherwise some key frame is returned."""
    path, truth = videos['avi']
    keys = list(init('decord', path)['video_reader'].get_key_indices())
    assert len(keys) > 2 and keys[0] == 0
    exact = [0, 1, 2, keys[1], keys[2]]
    results = init('decord', path)
    results['frame_inds'] = np.array(exact)
    imgs = DecordDecode('efficient')(results)['imgs']
    for img, index in zip(imgs, exact):
        np.testing.assert_array_equal(img, truth[index])

    between = keys[1] + 3
    results = init('decord', path)
    results['frame_inds'] = np.array([between])
    img = DecordDecode('efficient')(results)['imgs'][0]
    assert not np.array_equal(img, truth[between])
    assert any(np.array_equal(img, truth[k]) for k in keys)
    assert results['video_reader'] is None


# ------------------------------------------------ only sampled frames decoded
class CountingReader:
    """Wraps a reader, counting the method calls named in ``counted``."""

    def __init__(self, reader, counted):
        self._reader = reader
        self.calls = {name: [] for name in counted}

    def __getattr__(self, name):
        attr = getattr(self._reader, name)
        if name not in self.calls:
            return attr

        def counted(*args, **kwargs):
            self.calls[name].append(args)
            return attr(*args, **kwargs)

        return counted


def test_opencv_seeks_once_and_retrieves_only_needed_frames(videos):
    path, truth = videos['avi']
    readers = []

    def wrap(reader):
        readers.append(CountingReader(
            reader, ['set', 'grab', 'retrieve', 'read', 'release']))
        return readers[0]

    inds = [30, 24, 30, 27, 24]
    imgs = decode('opencv', path, inds, wrap)['imgs']
    for img, index in zip(imgs, inds):
        np.testing.assert_array_equal(img, truth[index])
    calls = readers[0].calls
    assert calls['set'] == [(cv2.CAP_PROP_POS_FRAMES, 24)]
    assert len(calls['grab']) == 30 - 24 + 1
    assert len(calls['retrieve']) == 3
    assert calls['read'] == []
    assert len(calls['release']) == 1


class CountingContext:
    """Wraps a codec context, counting the frames its ``decode`` returns."""

    def __init__(self, context, owner):
        object.__setattr__(self, '_context', context)
        object.__setattr__(self, '_owner', owner)

    def __getattr__(self, name):
        return getattr(self._context, name)

    def __setattr__(self, name, value):
        setattr(self._context, name, value)

    def decode(self, *args, **kwargs):
        frames = self._context.decode(*args, **kwargs)
        self._owner.decoded += len(frames)
        return frames


class StreamProxy:
    """A video stream whose codec context counts decoded frames."""

    def __init__(self, stream, owner):
        self.stream = stream
        self.codec_context = CountingContext(stream.codec_context, owner)

    def __getattr__(self, name):
        return getattr(self.stream, name)


def _unwrap(args, kwargs):
    args = [a.stream if isinstance(a, StreamProxy) else a for a in args]
    kwargs = {k: v.stream if isinstance(v, StreamProxy) else v
              for k, v in kwargs.items()}
    return args, kwargs


class CountingContainer:
    """Wraps a PyAV container, counting decoded frames (through
    ``container.decode`` or the stream's codec context)."""

    def __init__(self, container):
        self._container = container
        self.decoded = 0
        self.streams = SimpleNamespace(
            video=[StreamProxy(container.streams.video[0], self)])

    def __getattr__(self, name):
        return getattr(self._container, name)

    def demux(self, *args, **kwargs):
        args, kwargs = _unwrap(args, kwargs)
        return self._container.demux(*args, **kwargs)

    def seek(self, *args, **kwargs):
        args, kwargs = _unwrap(args, kwargs)
        return self._container.seek(*args, **kwargs)

    def decode(self, *args, **kwargs):
        args, kwargs = _unwrap(args, kwargs)
        for frame in self._container.decode(*args, **kwargs):
            self.decoded += 1
            yield frame


def count_conversions(monkeypatch):
    """Make the PyAV decoders count their RGB conversions in the returned
    list's length."""
    converted = []
    make = exact_seek._rgb_converter

    def counting_converter():
        convert = make()

        def counted(frame):
            converted.append(frame.pts)
            return convert(frame)

        return counted

    monkeypatch.setattr(exact_seek, '_rgb_converter', counting_converter)
    return converted


@pytest.mark.parametrize('mode, inds, max_decoded', [
    ('accurate', [9, 2, 9, 5], 10),
    ('efficient', [40, 31, 40, 45], 45 - 24 + 1),
])
def test_pyav_decodes_only_up_to_needed_frames(videos, mode, inds,
                                               max_decoded, monkeypatch):
    """Both modes stop after the last needed frame and start at the key
    frame before the first one (FFV1 here: key frames every 12; accurate
    starts at frame 0, the key frame before 2)."""
    path, truth = videos['avi']
    converted = count_conversions(monkeypatch)
    results = init('pyav', path)
    counting = CountingContainer(results['video_reader'])
    results['video_reader'] = counting
    results['frame_inds'] = np.array(inds)
    imgs = PyAVDecode(mode)(results)['imgs']
    for img, index in zip(imgs, inds):
        np.testing.assert_array_equal(img, truth[index])
    assert counting.decoded == max_decoded
    assert len(converted) == 3


def test_decord_get_batch_gets_unique_sorted_indices(videos):
    path, truth = videos['mkv']
    readers = []

    def wrap(reader):
        readers.append(CountingReader(reader, ['get_batch']))
        return readers[0]

    inds = [9, 0, 4, 9, 0]
    imgs = decode('decord', path, inds, wrap)['imgs']
    assert readers[0].calls['get_batch'] == [([0, 4, 9], )]
    for img, index in zip(imgs, inds):
        np.testing.assert_array_equal(img, truth[index])


# --------------------------------------------------------------- bad inputs
@pytest.fixture(scope='module')
def bad_files(videos):
    root = videos['root']
    empty = root / 'empty.mp4'
    empty.write_bytes(b'')
    text = root / 'text.mp4'
    text.write_text('this is not a video\n' * 20)
    truncated_mp4 = truncate_file(videos['mp4'][0], root / 'trunc.mp4', 0.4)
    return {'empty': str(empty), 'text': str(text),
            'truncated_mp4': truncated_mp4}


@pytest.mark.parametrize('backend', INIT_BACKENDS)
def test_missing_file(videos, backend):
    path = str(videos['root'] / 'nope.mp4')
    with pytest.raises(BadSampleError) as error:
        init(backend, path)
    assert_one_line(error, f'no such video file: {path}',
                    BACKENDS[backend][2])


@pytest.mark.parametrize('backend', INIT_BACKENDS)
def test_empty_file(bad_files, backend):
    with pytest.raises(BadSampleError) as error:
        init(backend, bad_files['empty'])
    assert_one_line(error, f'empty video file: {bad_files["empty"]}',
                    BACKENDS[backend][2])


@pytest.mark.parametrize('backend', INIT_BACKENDS)
@pytest.mark.parametrize('kind', ['text', 'truncated_mp4'])
def test_unopenable_file(bad_files, backend, kind):
    """A text file named .mp4, and an mp4 cut to its first 40 % (its index,
    written last, is gone) cannot be opened."""
    path = bad_files[kind]
    with pytest.raises(BadSampleError) as error:
        init(backend, path)
    assert_one_line(error, f'{BACKENDS[backend][2]} could not open {path}')


@pytest.mark.parametrize('backend', EXACT_BACKENDS)
def test_index_past_the_end(videos, backend):
    path, _ = videos['avi']
    with pytest.raises(BadSampleError) as error:
        decode(backend, path, [0, NUM_FRAMES])
    assert_one_line(error, BACKENDS[backend][2],
                    f'cannot read frame {NUM_FRAMES} of {path}',
                    f'the video has {NUM_FRAMES} frames')


@pytest.mark.parametrize('backend', EXACT_BACKENDS)
def test_truncated_stream(videos, backend):
    """An FFV1 avi cut to 40 %: it opens, but the frames past the cut do
    not decode (OpenCV and PyAV trust the header's 60 frames, decord counts
    the 24 packets left)."""
    src, truth = videos['avi']
    path = truncate_file(src, videos['root'] / f'trunc_{backend}.avi', 0.4)
    results = init(backend, path)
    total = results['total_frames']
    assert total == (24 if backend == 'decord' else NUM_FRAMES)
    results['frame_inds'] = np.array([0, total - 1])
    with pytest.raises(BadSampleError) as error:
        BACKENDS[backend][1]()(results)
    assert_one_line(error, BACKENDS[backend][2], f'of {path}')
    # 60 frames of equal size cut at 40 %: 24 left, the last one cut short;
    # PyAV's accurate mode counts the packets before decoding
    if backend == 'pyav':
        assert ' frame 59 of ' in str(error.value)
        assert 'the stream has 24 frames (the header says 60)' in str(
            error.value)
    else:
        assert ' frame 23 of ' in str(error.value)
    assert results['video_reader'] is None
    # the first frame is intact (decord cannot seek to the other frames
    # before the cut: the avi's index, written last, is gone)
    np.testing.assert_array_equal(decode(backend, path, [0])['imgs'][0],
                                  truth[0])


@pytest.mark.parametrize('backend', EXACT_BACKENDS)
@pytest.mark.parametrize('inds, error_type, text', [
    ([-1, 2], ValueError, 'negative index -1'),
    ([], ValueError, 'non-empty array'),
    ([[]], ValueError, r'non-empty array, got shape \(1, 0\)'),
    ([1.0, 2.0], TypeError, 'integers'),
])
def test_bad_frame_inds_are_programming_errors(videos, backend, inds,
                                               error_type, text):
    path, _ = videos['avi']
    results = init(backend, path)
    results['frame_inds'] = np.array(inds)
    with pytest.raises(error_type, match=text):
        BACKENDS[backend][1]()(results)


# ------------------------------------------------------------------ contract
@pytest.mark.parametrize('backend', EXACT_BACKENDS)
def test_contract(videos, backend):
    path, _ = videos['avi']
    init_cls, decode_factory, _ = BACKENDS[backend]
    decoder = decode_factory()
    with pytest.raises(KeyError, match='filename'):
        init_cls()({})
    results = init_cls()({'filename': path})
    assert set(init_cls.added_keys) <= set(results)
    with pytest.raises(KeyError, match='frame_inds'):
        decoder(dict(results))
    results['frame_inds'] = np.array([1])
    results = decoder(results)
    assert set(type(decoder).added_keys) <= set(results)
    with pytest.raises(ValueError, match='already'):
        decoder(results)


@pytest.mark.parametrize('make, error_type, text', [
    (lambda: DecordInit(num_threads=-1), ValueError, 'num_threads'),
    (lambda: DecordInit(num_threads=1.5), TypeError, 'num_threads'),
    (lambda: DecordInit(io_backend='petrel'), ValueError, 'io_backend'),
    (lambda: DecordDecode(mode='fast'), ValueError, 'mode'),
    (lambda: OpenCVInit(num_threads='2'), TypeError, 'num_threads'),
    (lambda: PyAVInit(num_threads=True), TypeError, 'num_threads'),
    (lambda: PyAVDecode(mode='exact'), ValueError, 'mode'),
])
def test_constructor_validation(make, error_type, text):
    with pytest.raises(error_type, match=text):
        make()


def test_pyav_missing_says_pip_install_av(monkeypatch):
    monkeypatch.setitem(sys.modules, 'av', None)
    with pytest.raises(ImportError, match='pip install av'):
        PyAVInit()


def test_mkv_frame_count_from_packets(videos):
    """Matroska has no frame count in its header; PyAVInit counts the
    packets without decoding."""
    results = init('pyav', videos['mkv'][0])
    assert results['total_frames'] == NUM_FRAMES
    results['video_reader'].close()


def test_video_without_frames(videos):
    """An avi with a header but no frame: every backend refuses it."""
    path = write_video(videos['root'] / 'noframes.avi',
                       [np.zeros((48, 64, 3), np.uint8)])
    truncated = truncate_file(path, videos['root'] / 'header_only.avi', 0.05)
    for backend in INIT_BACKENDS:
        with pytest.raises(BadSampleError) as error:
            init(backend, truncated)
        assert_one_line(error, truncated, BACKENDS[backend][2])


# ------------------------------------------------------------------- threads
def test_reader_thread_settings(videos):
    path, _ = videos['avi']
    reader = OpenCVInit(num_threads=2)(dict(filename=path))['video_reader']
    assert reader.get(cv2.CAP_PROP_N_THREADS) == 2
    reader.release()
    container = PyAVInit(num_threads=2)(dict(filename=path))['video_reader']
    stream = container.streams.video[0]
    assert stream.codec_context.thread_count == 2
    assert stream.thread_type.name == 'SLICE'
    container.close()


def test_limit_decoder_threads():
    before, opencl = cv2.getNumThreads(), cv2.ocl.useOpenCL()
    try:
        limit_decoder_threads(1)
        assert cv2.getNumThreads() == 1
        assert not cv2.ocl.useOpenCL()
        limit_decoder_threads(3)
        assert cv2.getNumThreads() == 3
    finally:
        cv2.setNumThreads(before)
        cv2.ocl.setUseOpenCL(opencl)
    with pytest.raises(ValueError, match='num_threads'):
        limit_decoder_threads(-1)
    with pytest.raises(TypeError, match='num_threads'):
        limit_decoder_threads(None)


def test_importing_decoders_leaves_opencv_threads_alone():
    code = ('import cv2; n = cv2.getNumThreads(); '
            'import mmvid.datasets.transforms.opencv_decode, '
            'mmvid.datasets.transforms.decord_decode, '
            'mmvid.datasets.transforms.pyav_decode, '
            'mmvid.datasets.transforms.rawframe_decode, '
            'mmvid.datasets.transforms.threads; '
            'print(n, cv2.getNumThreads())')
    repo = str(Path(__file__).resolve().parents[3])
    env = dict(os.environ, PYTHONPATH=repo)
    out = subprocess.run([sys.executable, '-c', code], capture_output=True,
                         text=True, check=True, env=env).stdout.split()
    assert out[0] == out[1]


def test_without_decord_the_error_names_the_extra_and_other_decoders(
        monkeypatch, tmp_path):
    """decord is an optional extra: without it, building a decord transform
    (or checking videos with it) says what to install and what works
    instead; the OpenCV decoders still run."""
    from mmvid.data_preparation.video_check import check_video
    monkeypatch.setitem(sys.modules, 'decord', None)  # import decord fails
    message = (r"decord is not installed: pip install 'mmvid\[decord\]'.*"
               r'OpenCVInit / OpenCVDecode, always installed.*PyAVInit')
    with pytest.raises(ImportError, match=message):
        DecordInit()
    path = str(tmp_path / 'v.avi')
    write_ffv1_video(path, num_frames=4)
    with pytest.raises(ImportError, match=message):
        check_video(path, backend='decord')
    results = OpenCVInit()(dict(filename=path))
    assert results['total_frames'] == 4


@pytest.fixture(scope='module')
def h264_video(tmp_path_factory):
    """An H.264 video with short GOPs (seeks decode from a key frame),
    written by the imageio-ffmpeg binary of the test requirements."""
    import subprocess
    import imageio_ffmpeg
    path = str(tmp_path_factory.mktemp('h264') / 'testsrc.mp4')
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), '-loglevel', 'error',
                    '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=25',
                    '-t', '6', '-c:v', 'libx264', '-g', '40', '-pix_fmt',
                    'yuv420p', path], check=True)
    return path


def test_decord_frames_are_the_same_whatever_the_thread_count(h264_video):
    """'auto' (the default; 2 threads or more in this process where the
    machine has 2 cores), 1 and 3 threads decode identical frames, for a
    train-like clip and for overlapping test-like clips."""
    from mmvid.datasets.transforms import threads
    assert DecordInit().num_threads == 'auto'
    clips = [np.arange(70, 134, 2),  # one 32x2 clip across a key frame
             np.concatenate([np.arange(s, s + 40, 2) for s in (0, 30, 60,
                                                                 90)])]
    for inds in clips:
        decoded = {}
        for count in ('auto', 1, 3):
            init = DecordInit(num_threads=count)
            results = init(dict(filename=h264_video))
            results['frame_inds'] = inds
            decoded[count] = np.stack(
                DecordDecode(decoder='decord')(results)['imgs'])
        assert decoded[1].shape == (len(inds), 120, 160, 3)
        np.testing.assert_array_equal(decoded['auto'], decoded[1])
        np.testing.assert_array_equal(decoded[3], decoded[1])
    assert DecordInit().reader_threads() == threads.auto_decoder_threads()


def test_auto_decoder_threads_in_the_main_process_and_in_workers(
        monkeypatch):
    import types

    import torch.utils.data

    from mmvid.datasets.transforms import threads
    worker = None
    monkeypatch.setattr(torch.utils.data, 'get_worker_info', lambda: worker)
    for cores, expected in ((1, 1), (2, 2), (6, 6), (64, 8)):
        monkeypatch.setattr(threads, 'usable_cores', lambda c=cores: c)
        assert threads.auto_decoder_threads() == expected  # main process
    for cores, workers, expected in ((8, 2, 4), (2, 2, 1), (2, 8, 1),
                                     (16, 3, 5)):
        monkeypatch.setattr(threads, 'usable_cores', lambda c=cores: c)
        worker = types.SimpleNamespace(num_workers=workers)
        assert threads.auto_decoder_threads() == expected
    assert PyAVInit(num_threads='auto').reader_threads() == expected
    assert OpenCVInit().reader_threads() == 1
    with pytest.raises(TypeError, match="num_threads must be an int >= 0 "
                       "or 'auto', got 'many'"):
        DecordInit(num_threads='many')
