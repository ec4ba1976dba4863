"""The torchcodec decoder (``TorchCodecInit`` / ``TorchCodecDecode``).

torchcodec is an optional extra that needs FFmpeg's shared libraries, so
most tests run the transforms over a stand-in ``torchcodec`` module put in
``sys.modules``: a small ``VideoDecoder`` over PyAV with the keywords and
results of the real one. They check the transforms' own logic on every
machine: frames equal to a straight decode of every frame, one
``get_frames_at`` of the sorted distinct indices, repeats copied, one-line
errors, argument checks and the message without torchcodec. Where the real
torchcodec imports and decodes, the last tests check its frames too;
elsewhere they check that building ``TorchCodecInit`` says what to
install.
"""
import os
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch

from mmvid.datasets.errors import BadSampleError
from mmvid.datasets.transforms import threads
from mmvid.datasets.transforms.torchcodec_decode import (TorchCodecDecode,
                                                         TorchCodecInit)
from mmvid.registry import TRANSFORMS
from tests.datasets.video_fixtures import (decode_every_frame, truncate_file,
                                           write_h264_video, write_video)

av = pytest.importorskip('av')  # a test requirement: always installed

NUM_FRAMES = 48
HEIGHT, WIDTH = 64, 96
# a 16x2 clip across a key frame (every 12), overlapping test clips, the
# last frame alone, scattered and repeated frames
INDEX_SETS = [np.arange(10, 42, 2),
              np.concatenate([np.arange(s, s + 8, 2)
                              for s in range(0, 40, 5)]),
              np.array([NUM_FRAMES - 1]),
              np.array([30, 3, 27, 27, 3])]


# ------------------------------------------------------------- the stand-in
class FakeVideoDecoder:
    """``torchcodec.decoders.VideoDecoder`` over PyAV: the real signature's
    keywords, ``metadata.num_frames`` / ``average_fps``, ``get_frames_at``
    returning a batch whose ``.data`` is a uint8 tensor, and the real
    errors' kinds (``ValueError`` for an unopenable file, ``IndexError``
    past the end). Every frame is decoded when it opens (small videos).

    ``opened`` lists the decoders made; ``fail_at`` (a set of indices)
    makes ``get_frames_at`` raise a two-line ``RuntimeError`` for them."""
    opened = []

    def __init__(self, source, *, stream_index=None, dimension_order='NCHW',
                 num_ffmpeg_threads=1, device=None, seek_mode='exact',
                 transforms=None, custom_frame_mappings=None):
        if seek_mode not in ('exact', 'approximate'):
            raise ValueError(f'Invalid seek mode ({seek_mode}).')
        if dimension_order not in ('NCHW', 'NHWC'):
            raise ValueError(f'Invalid dimension order ({dimension_order}).')
        self.kwargs = dict(dimension_order=dimension_order,
                           num_ffmpeg_threads=num_ffmpeg_threads,
                           device=device, seek_mode=seek_mode)
        try:
            with av.open(str(source)) as container:
                stream = container.streams.video[0]
                rate = stream.average_rate
                self._frames = [frame.to_ndarray(format='rgb24')
                                for frame in container.decode(stream)]
        except (av.FFmpegError, IndexError) as error:
            raise ValueError(f'Could not open input file: {source}\n'
                             f'{error}') from error
        self.metadata = types.SimpleNamespace(
            num_frames=len(self._frames),
            average_fps=float(rate) if rate else None)
        self.calls = []
        self.fail_at = set()
        FakeVideoDecoder.opened.append(self)

    def get_frames_at(self, indices):
        indices = [int(i) for i in indices]
        self.calls.append(indices)
        for index in indices:
            if not 0 <= index < len(self._frames):
                raise IndexError(f'Index {index} is out of bounds; must be '
                                 f'in the range [0, {len(self._frames)}).')
            if index in self.fail_at:
                raise RuntimeError(f'Could not decode frame {index}.\n'
                                   'Invalid data found when processing input')
        data = np.stack([self._frames[i] for i in indices])
        if self.kwargs['dimension_order'] == 'NCHW':
            data = data.transpose(0, 3, 1, 2)
        return types.SimpleNamespace(data=torch.from_numpy(data),
                                     pts_seconds=None, duration_seconds=None)


def fake_modules(video_decoder=FakeVideoDecoder):
    """``torchcodec`` and ``torchcodec.decoders`` stand-in modules."""
    package = types.ModuleType('torchcodec')
    package.__path__ = []  # a package
    decoders = types.ModuleType('torchcodec.decoders')
    decoders.VideoDecoder = video_decoder
    package.decoders = decoders
    return package, decoders


@pytest.fixture
def fake(monkeypatch):
    """The stand-in torchcodec in ``sys.modules`` (restored after the
    test); returns ``FakeVideoDecoder`` with ``opened`` emptied."""
    package, decoders = fake_modules()
    monkeypatch.setitem(sys.modules, 'torchcodec', package)
    monkeypatch.setitem(sys.modules, 'torchcodec.decoders', decoders)
    monkeypatch.setattr(FakeVideoDecoder, 'opened', [])
    return FakeVideoDecoder


@pytest.fixture(scope='module')
def videos(tmp_path_factory):
    root = tmp_path_factory.mktemp('torchcodec')
    h264 = write_h264_video(root / 'h264.mp4', NUM_FRAMES, HEIGHT, WIDTH)
    return {'h264': (h264, decode_every_frame(h264)), 'root': root}


def decode(path, inds, **init_args):
    results = TorchCodecInit(**init_args)(dict(filename=str(path)))
    results['frame_inds'] = np.asarray(inds)
    return TorchCodecDecode()(results)


def assert_one_line(error, *parts):
    message = str(error.value)
    assert '\n' not in message
    for part in parts:
        assert str(part) in message, (part, message)


# ---------------------------------------------------- logic, on the stand-in
def test_fixture_video_has_b_frames(videos):
    """Packets out of display order: the H.264 fixture has B-frames."""
    path, truth = videos['h264']
    assert truth.shape == (NUM_FRAMES, HEIGHT, WIDTH, 3)
    with av.open(path) as container:
        stamps = [p.pts for p in container.demux(video=0) if p.size]
    assert stamps != sorted(stamps)


@pytest.mark.parametrize('set_index', range(len(INDEX_SETS)))
def test_frames_equal_a_straight_decode(fake, videos, set_index):
    path, truth = videos['h264']
    inds = INDEX_SETS[set_index]
    results = decode(path, inds)
    assert results['total_frames'] == NUM_FRAMES
    assert results['avg_fps'] == 25.0
    imgs = results['imgs']
    assert len(imgs) == len(inds)
    for img in imgs:
        assert img.dtype == np.uint8 and img.shape == (HEIGHT, WIDTH, 3)
    np.testing.assert_array_equal(np.stack(imgs), truth[inds])
    assert results['original_shape'] == results['img_shape'] == (HEIGHT,
                                                                  WIDTH)
    assert results['video_reader'] is None
    # one call, the distinct indices sorted
    assert fake.opened[0].calls == [sorted(set(inds.tolist()))]


def test_frame_inds_of_any_shape_are_flattened(fake, videos):
    """``[N, 1]`` (mmaction2 1.x samplers) gives the frames of ``[N]``."""
    path, truth = videos['h264']
    inds = np.array([7, 2, 2, 40])
    flat = decode(path, inds)['imgs']
    column = decode(path, inds[:, None])['imgs']
    np.testing.assert_array_equal(np.stack(column), np.stack(flat))
    np.testing.assert_array_equal(np.stack(column), truth[inds])
    assert fake.opened[1].calls == [[2, 7, 40]]


def test_reader_is_opened_for_cpu_nhwc_with_the_threads_and_seek_mode(
        fake, videos, monkeypatch):
    path, _ = videos['h264']
    TorchCodecInit(num_threads=3, seek_mode='approximate')(
        dict(filename=path))
    monkeypatch.setattr(threads, 'usable_cores', lambda: 5)
    TorchCodecInit()(dict(filename=path))  # 'auto' in the main process
    TorchCodecInit(num_threads=0)(dict(filename=path))
    assert [d.kwargs for d in fake.opened] == [
        dict(dimension_order='NHWC', num_ffmpeg_threads=n, device='cpu',
             seek_mode=mode)
        for n, mode in ((3, 'approximate'), (5, 'exact'), (0, 'exact'))]
    assert TorchCodecInit().num_threads == 'auto'


def test_repeated_frames_do_not_alias(fake, videos):
    path, truth = videos['h264']
    imgs = decode(path, [4, 4, 9, 4])['imgs']
    imgs[0][:] = 0
    imgs[1] += 1
    np.testing.assert_array_equal(imgs[3], truth[4])
    np.testing.assert_array_equal(imgs[2], truth[9])
    for i in range(4):
        for j in range(i + 1, 4):
            assert not np.shares_memory(imgs[i], imgs[j])


def test_built_from_the_registry(fake, videos):
    path, truth = videos['h264']
    init = TRANSFORMS.build(dict(type='TorchCodecInit', num_threads=1))
    decoder = TRANSFORMS.build(dict(type='TorchCodecDecode'))
    results = init(dict(filename=path))
    results['frame_inds'] = np.array([7])
    np.testing.assert_array_equal(decoder(results)['imgs'][0], truth[7])


def test_index_past_the_end(fake, videos):
    path, _ = videos['h264']
    with pytest.raises(BadSampleError) as error:
        decode(path, [0, NUM_FRAMES])
    assert_one_line(error, 'torchcodec', f'cannot read frame {NUM_FRAMES} '
                    f'of {path}', f'the video has {NUM_FRAMES} frames')
    assert fake.opened[0].calls == []  # refused before torchcodec is asked


def test_a_frame_that_fails_to_decode_is_named(fake, videos):
    path, _ = videos['h264']
    results = TorchCodecInit()(dict(filename=path))
    results['video_reader'].fail_at = {20}
    results['frame_inds'] = np.array([30, 5, 20, 40])
    with pytest.raises(BadSampleError) as error:
        TorchCodecDecode()(results)
    assert_one_line(error, f'torchcodec could not decode frame 20 of {path}',
                    f'video has {NUM_FRAMES} frames',
                    'Could not decode frame 20.')
    assert results['video_reader'] is None


@pytest.mark.parametrize('kind', ['missing', 'empty', 'directory'])
def test_missing_empty_and_non_regular_files(fake, videos, kind):
    root = videos['root']
    path = root / f'{kind}.mp4'
    if kind == 'empty':
        path.write_bytes(b'')
    elif kind == 'directory':
        path.mkdir(exist_ok=True)
    text = {'missing': 'no such video file', 'empty': 'empty video file',
            'directory': 'not a regular file'}[kind]
    with pytest.raises(BadSampleError) as error:
        TorchCodecInit()(dict(filename=str(path)))
    assert_one_line(error, f'{text}: {path} (torchcodec)')
    assert fake.opened == []


@pytest.mark.parametrize('kind', ['text', 'truncated_mp4'])
def test_unopenable_file(fake, videos, kind):
    """A text file named .mp4, and an mp4 cut to its first 40 % (its index,
    written last, is gone)."""
    root = videos['root']
    if kind == 'text':
        path = root / 'text.mp4'
        path.write_text('this is not a video\n' * 20)
    else:
        path = truncate_file(videos['h264'][0], root / 'trunc.mp4', 0.4)
    with pytest.raises(BadSampleError) as error:
        TorchCodecInit()(dict(filename=str(path)))
    assert_one_line(error, f'torchcodec could not open {path} as a video')


def test_video_without_frames(fake, videos):
    path = write_video(videos['root'] / 'noframes.avi',
                       [np.zeros((48, 64, 3), np.uint8)])
    header_only = truncate_file(path, videos['root'] / 'header_only.avi',
                                0.05)
    with pytest.raises(BadSampleError) as error:
        TorchCodecInit()(dict(filename=header_only))
    assert_one_line(error, header_only, 'torchcodec')


@pytest.mark.parametrize('inds, error_type, text', [
    ([-1, 2], ValueError, 'negative index -1'),
    ([], ValueError, 'non-empty array'),
    ([[]], ValueError, r'non-empty array, got shape \(1, 0\)'),
    ([1.0, 2.0], TypeError, 'integers'),
])
def test_bad_frame_inds_are_programming_errors(fake, videos, inds,
                                               error_type, text):
    path, _ = videos['h264']
    results = TorchCodecInit()(dict(filename=path))
    results['frame_inds'] = np.array(inds)
    with pytest.raises(error_type, match=text):
        TorchCodecDecode()(results)
    assert results['video_reader'] is None


def test_contract(fake, videos):
    path, _ = videos['h264']
    decoder = TorchCodecDecode()
    with pytest.raises(KeyError, match='filename'):
        TorchCodecInit()({})
    results = TorchCodecInit()({'filename': path})
    assert set(TorchCodecInit.added_keys) <= set(results)
    with pytest.raises(KeyError, match='frame_inds'):
        decoder(dict(results))
    results['frame_inds'] = np.array([1])
    results = decoder(results)
    assert set(TorchCodecDecode.added_keys) <= set(results)
    with pytest.raises(ValueError, match=r'already released\): put a '
                       'TorchCodecInit before every TorchCodecDecode'):
        decoder(results)


@pytest.mark.parametrize('kwargs, error_type, text', [
    (dict(num_threads=-1), ValueError, 'num_threads must be >= 0, got -1'),
    (dict(num_threads=1.5), TypeError, 'num_threads must be an int'),
    (dict(num_threads=True), TypeError, 'num_threads must be an int'),
    (dict(num_threads='2'), TypeError,
     "num_threads must be an int >= 0 or 'auto', got '2'"),
    (dict(seek_mode='fast'), ValueError,
     r"seek_mode must be one of \('exact', 'approximate'\), got 'fast'"),
    (dict(seek_mode=None), ValueError, 'seek_mode must be one of'),
])
def test_constructor_validation(fake, kwargs, error_type, text):
    with pytest.raises(error_type, match=text):
        TorchCodecInit(**kwargs)


def test_inference_swaps_a_torchcodec_pipeline_for_frame_folders():
    """``mmvid.apis.inference`` knows the pair as a video reader: given a
    frame folder, it drops the Init and reads with ``RawFrameDecode``."""
    from mmvid.apis.inference import pipeline_for_input
    pipeline = [dict(type='TorchCodecInit'),
                dict(type='SampleFrames', clip_len=4),
                dict(type='TorchCodecDecode')]
    assert pipeline_for_input(pipeline, 'rawframes') == [
        dict(type='SampleFrames', clip_len=4), dict(type='RawFrameDecode')]


# -------------------------------------------------------- without torchcodec
HELP_PATTERN = (r"pip install 'mmvid\[torchcodec\]' \(or pip install "
                r"torchcodec\).*FFmpeg's shared libraries.*apt install "
                r'ffmpeg.*DecordInit / DecordDecode.*PyAVInit / PyAVDecode'
                r'.*OpenCVInit / OpenCVDecode')


def test_without_torchcodec_building_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, 'torchcodec', None)  # import fails
    with pytest.raises(ImportError, match=HELP_PATTERN):
        TorchCodecInit()
    TorchCodecDecode()  # reads an open reader: needs no import


def test_a_torchcodec_that_cannot_load_gives_the_same_help(monkeypatch):
    """torchcodec raises RuntimeError (a long, multi-line one) when its
    libraries do not load, e.g. without FFmpeg's shared libraries."""
    decoders = types.ModuleType('torchcodec.decoders')

    def __getattr__(name):
        raise RuntimeError('Could not load libtorchcodec. Likely causes:\n'
                           '  1. FFmpeg is not properly installed')

    decoders.__getattr__ = __getattr__
    package, _ = fake_modules()
    monkeypatch.setitem(sys.modules, 'torchcodec', package)
    monkeypatch.setitem(sys.modules, 'torchcodec.decoders', decoders)
    with pytest.raises(ImportError, match=HELP_PATTERN) as error:
        TorchCodecInit()
    assert str(error.value).endswith(
        'torchcodec failed to load: Could not load libtorchcodec. Likely '
        'causes:')


def test_module_imports_and_registers_without_torchcodec():
    code = ('import sys; sys.modules["torchcodec"] = None; '
            'from mmvid.registry import TRANSFORMS; '
            'import mmvid.datasets.transforms.torchcodec_decode; '
            'print(TRANSFORMS.get("TorchCodecInit").__name__)')
    repo = str(Path(__file__).resolve().parents[3])
    env = dict(os.environ, PYTHONPATH=repo)
    out = subprocess.run([sys.executable, '-c', code], capture_output=True,
                         text=True, check=True, env=env).stdout.split()
    assert out == ['TorchCodecInit']


# ---------------------------------------------- the real torchcodec, if any
@pytest.fixture(scope='module')
def real_torchcodec(videos):
    """The real ``torchcodec.decoders.VideoDecoder`` where it imports and
    decodes a frame of the fixture; else ``None`` (not installed, or its
    libraries do not load: no FFmpeg shared libraries, a build for another
    torch or for CUDA), and the tests check this environment's other
    answer: building ``TorchCodecInit`` says what to install."""
    try:
        from torchcodec.decoders import VideoDecoder
        decoder = VideoDecoder(videos['h264'][0], device='cpu',
                               dimension_order='NHWC')
        decoder.get_frames_at([0])
    except Exception:  # ImportError, RuntimeError, OSError
        return None
    return VideoDecoder


def torchcodec_missing_is_reported(real_torchcodec):
    """Where the real torchcodec does not work: check that building
    ``TorchCodecInit`` raises the ImportError naming the extra and FFmpeg's
    libraries, and return True (the caller stops there)."""
    if real_torchcodec is not None:
        return False
    with pytest.raises(ImportError, match=r"pip install 'mmvid\[torchcodec"
                       r"\]'.*FFmpeg"):
        TorchCodecInit()
    return True


@pytest.mark.parametrize('seek_mode', ['exact', 'approximate'])
def test_real_torchcodec_frames_equal_a_straight_decode(
        real_torchcodec, videos, seek_mode):
    if torchcodec_missing_is_reported(real_torchcodec):
        return
    path, truth = videos['h264']
    for inds in INDEX_SETS:
        results = decode(path, inds, seek_mode=seek_mode, num_threads=1)
        assert results['total_frames'] == NUM_FRAMES
        assert results['avg_fps'] == 25.0
        imgs = results['imgs']
        for img in imgs:
            assert img.dtype == np.uint8 and img.shape == (HEIGHT, WIDTH, 3)
            assert img.flags.c_contiguous
        np.testing.assert_array_equal(np.stack(imgs), truth[inds])


def test_real_torchcodec_repeats_and_errors(real_torchcodec, videos):
    if torchcodec_missing_is_reported(real_torchcodec):
        return
    path, truth = videos['h264']
    imgs = decode(path, [4, 4, 4])['imgs']
    imgs[0][:] = 0
    np.testing.assert_array_equal(imgs[2], truth[4])
    assert not np.shares_memory(imgs[1], imgs[2])
    with pytest.raises(BadSampleError) as error:
        decode(path, [0, NUM_FRAMES])
    assert_one_line(error, 'torchcodec', f'the video has {NUM_FRAMES} '
                    'frames')
    truncated = truncate_file(path, videos['root'] / 'real_trunc.mp4', 0.4)
    with pytest.raises(BadSampleError) as error:
        TorchCodecInit()(dict(filename=truncated))
    assert_one_line(error, f'torchcodec could not open {truncated}')
