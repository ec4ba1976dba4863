"""The exact, skipping PyAV decoder (``exact_seek``) and ``DecordDecode``'s
choice of decoder: frames equal to a straight decode of every frame, equal
to decord's where the route is automatic, fewer frames decoded, and both
answers of the automatic choice forced."""
import sys

import numpy as np
import pytest

from mmvid.datasets.transforms import exact_seek
from mmvid.datasets.transforms.decord_decode import DecordDecode, DecordInit
from mmvid.datasets.transforms.pyav_decode import PyAVDecode, PyAVInit
from tests.datasets.video_fixtures import (decode_every_frame,
                                           write_encoded_video)

av = pytest.importorskip('av')  # a test requirement: always installed

NUM_FRAMES = 72
HEIGHT, WIDTH = 64, 96
# (encoder, pixel format, file suffix, codec options, colour tags)
VARIANTS = {
    'h264': ('libx264', 'yuv420p', '.mp4', {'g': '24', 'bf': '3'}, {}),
    'h264-bt709-full': ('libx264', 'yuvj420p', '.mp4',
                        {'g': '24', 'bf': '3'},
                        dict(colorspace=1, color_primaries=1, color_trc=1)),
    'h264-422': ('libx264', 'yuv422p', '.mp4', {'g': '24', 'bf': '3'}, {}),
    'hevc': ('libx265', 'yuv420p', '.mp4',
             {'x265-params': 'keyint=24:bframes=3:log-level=none'}, {}),
    'vp9': ('libvpx-vp9', 'yuv420p', '.webm', {'g': '24'}, {}),
    'mpeg4-bframes': ('mpeg4', 'yuv420p', '.mp4', {'g': '24', 'bf': '2'},
                      {}),
    'h264-10bit': ('libx264', 'yuv420p10le', '.mp4', {'g': '24', 'bf': '3'},
                   {}),
}
DECORD_IDENTICAL = ['h264', 'h264-bt709-full', 'h264-422', 'vp9']
# index sets: a 32x2 train clip across a key frame, 10 overlapping test
# clips, the last frame alone, a few scattered frames
INDEX_SETS = [np.arange(30, 94, 2) % NUM_FRAMES,
              np.concatenate([np.arange(s, s + 16, 2)
                              for s in range(0, 56, 6)]),
              np.array([NUM_FRAMES - 1]),
              np.array([50, 3, 27, 27, 3])]


def encode_in_child(path, encoder, pix_fmt, options, tags):
    """``encode`` in a fresh interpreter: once decord is imported (earlier
    tests do), PyAV's libvpx-vp9 encoder fails to open in this process
    ("Invalid argument"; decord's bundled libraries come first)."""
    import os
    import subprocess
    from pathlib import Path
    repo = str(Path(__file__).resolve().parents[3])
    code = ('import sys; from tests.datasets.video_fixtures import '
            'write_encoded_video as w; w(*sys.argv[1:4], eval(sys.argv[4]), '
            f'eval(sys.argv[5]), {NUM_FRAMES}, {HEIGHT}, {WIDTH})')
    subprocess.run([sys.executable, '-c', code, str(path), encoder, pix_fmt,
                    repr(options), repr(tags)], check=True, cwd=repo,
                   env=dict(os.environ, PYTHONPATH=repo))
    return str(path)


@pytest.fixture(scope='module')
def videos(tmp_path_factory):
    root = tmp_path_factory.mktemp('exact_seek')
    out = {}
    for name, (encoder, pix_fmt, suffix, options, tags) in VARIANTS.items():
        path = encode_in_child(root / (name + suffix), encoder, pix_fmt,
                               options, tags)
        out[name] = (path, decode_every_frame(path))
    return out


def decord_decode(path, inds, decoder):
    results = DecordInit()(dict(filename=path))
    results['frame_inds'] = np.asarray(inds)
    return np.stack(DecordDecode(decoder=decoder)(results)['imgs'])


def nonreference(packet):
    """Whether an H.264 packet (AVCC: 4-byte lengths, then NAL units) is a
    picture no other refers to: its slice NAL units have nal_ref_idc 0.
    Read from the bitstream, independently of FFmpeg."""
    data, position, refs = bytes(packet), 0, []
    while position + 4 < len(data):
        size = int.from_bytes(data[position:position + 4], 'big')
        header = data[position + 4]
        if header & 0x1f in (1, 5):  # coded slice (non-IDR / IDR)
            refs.append(header >> 5 & 3)
        position += 4 + size
    return bool(refs) and not any(refs)


def test_fixture_streams_have_nonreference_frames(videos):
    """The H.264 fixture has B-frames that nothing refers to (else the
    skipping would not be tested)."""
    path, truth = videos['h264']
    assert len(truth) == NUM_FRAMES
    with av.open(path) as container:
        flags = [nonreference(p) for p in container.demux(video=0) if p.size]
    assert sum(flags) >= NUM_FRAMES // 4


@pytest.mark.parametrize('name', list(VARIANTS))
@pytest.mark.parametrize('set_index', range(len(INDEX_SETS)))
def test_pyav_accurate_frames_equal_a_straight_decode(videos, name,
                                                      set_index):
    path, truth = videos[name]
    inds = INDEX_SETS[set_index]
    results = PyAVInit()(dict(filename=path))
    results['frame_inds'] = inds
    imgs = np.stack(PyAVDecode()(results)['imgs'])
    np.testing.assert_array_equal(imgs, truth[inds])


@pytest.mark.parametrize('name', DECORD_IDENTICAL)
def test_decord_decode_through_pyav_gives_decords_frames(videos, name):
    """For these streams the skipping PyAV route and decord's get_batch
    give bit-identical frames (and both equal the straight decode), so
    'auto' may take the faster one."""
    path, truth = videos[name]
    with av.open(path) as container:
        assert exact_seek.decord_identical(container.streams.video[0])
    for inds in INDEX_SETS:
        by_decord = decord_decode(path, inds, 'decord')
        np.testing.assert_array_equal(decord_decode(path, inds, 'pyav'),
                                      by_decord)
        np.testing.assert_array_equal(decord_decode(path, inds, 'auto'),
                                      by_decord)
        np.testing.assert_array_equal(by_decord, truth[inds])


@pytest.mark.parametrize('name', ['mpeg4-bframes', 'hevc', 'h264-10bit'])
def test_auto_keeps_decord_where_the_decoders_differ(videos, name,
                                                     monkeypatch):
    """MPEG-4 part 2 with B-frames (decord returns frames late after a
    seek), HEVC (x265's open GOPs: decord's frames after the second key
    frame differ from a straight decode) and 10-bit H.264 (converted
    differently): 'auto' stays with decord, so DecordDecode's numbers never
    change; 'pyav' gives the straight decode."""
    path, truth = videos[name]
    with av.open(path) as container:
        assert not exact_seek.decord_identical(container.streams.video[0])
    calls = spy_decode_exact(monkeypatch)
    inds = INDEX_SETS[0]
    np.testing.assert_array_equal(decord_decode(path, inds, 'auto'),
                                  decord_decode(path, inds, 'decord'))
    assert calls == []
    np.testing.assert_array_equal(decord_decode(path, inds, 'pyav'),
                                  truth[inds])
    assert len(calls) == 1


def spy_decode_exact(monkeypatch):
    from mmvid.datasets.transforms import decord_decode
    calls = []
    real = decord_decode.decode_exact

    def spy(*args, **kwargs):
        calls.append(args[2])
        return real(*args, **kwargs)

    monkeypatch.setattr(decord_decode, 'decode_exact', spy)
    return calls


def test_auto_without_pyav_uses_decord(videos, monkeypatch):
    """Both answers of the automatic choice: with PyAV the H.264 video goes
    through exact_seek, without it (import fails) through decord; the same
    frames either way. decoder='pyav' without PyAV fails at construction,
    naming the package."""
    path, truth = videos['h264']
    inds = INDEX_SETS[0]
    calls = spy_decode_exact(monkeypatch)
    with_pyav = decord_decode(path, inds, 'auto')
    assert calls == [path]
    monkeypatch.setitem(sys.modules, 'av', None)
    without_pyav = decord_decode(path, inds, 'auto')
    assert calls == [path]
    np.testing.assert_array_equal(with_pyav, without_pyav)
    np.testing.assert_array_equal(with_pyav, truth[inds])
    with pytest.raises(ImportError, match=r"decoder='pyav'.*pip install av"):
        DecordDecode(decoder='pyav')


def test_decoder_argument_is_checked():
    with pytest.raises(ValueError, match=r"decoder must be one of \('auto',"
                       r" 'decord', 'pyav'\), got 'ffmpeg'"):
        DecordDecode(decoder='ffmpeg')
    assert DecordDecode().decoder == 'auto'


class CountingContext:
    """A codec context that counts the frames its ``decode`` returns."""

    def __init__(self, context):
        object.__setattr__(self, 'context', context)
        object.__setattr__(self, 'decoded', 0)
        object.__setattr__(self, 'sent', [])

    def __getattr__(self, name):
        return getattr(self.context, name)

    def __setattr__(self, name, value):
        setattr(self.context, name, value)

    def decode(self, packet):
        if packet is not None:
            self.sent.append(packet.pts)
        frames = self.context.decode(packet)
        object.__setattr__(self, 'decoded', self.decoded + len(frames))
        return frames


def test_unwanted_nonreference_frames_are_not_decoded(videos):
    """A clip of every second frame from frame 4: decoding starts at the
    key frame 0, no packet after the last wanted one (decode order) is
    sent, the decoder outputs no more frames than the span's packets less
    its unwanted non-reference ones (read from the bitstream), never fewer
    than the wanted ones, and converts only those."""
    path, truth = videos['h264']
    inds = np.arange(4, 24, 2)
    with av.open(path) as container:
        packets, _ = exact_seek._demux(container, path, 'PyAV')
        order = sorted(packet.pts for packet in packets)
        wanted = {order[i]: k for k, i in enumerate(inds.tolist())}
        start = exact_seek._start_packet(packets, order[4])
        assert start == 0 and packets[0].is_keyframe
        span = [p for p in packets if p.pts <= order[inds[-1]]]
        skippable = sum(nonreference(p) for p in span
                        if p.pts not in wanted)
        assert skippable >= 4
        context = CountingContext(container.streams.video[0].codec_context)
        converted = []
        found = exact_seek._decode_skipping(
            context, packets[start:], wanted,
            lambda frame: converted.append(frame.pts) or frame.to_ndarray(
                format='rgb24'))
    assert len(inds) <= context.decoded <= len(span) - skippable
    last = max(k for k, p in enumerate(packets) if p.pts in wanted)
    assert last + 1 < len(packets)  # packets follow, and none was sent
    assert context.sent == [p.pts for p in packets[start:last + 1]]
    assert sorted(converted) == sorted(wanted)
    np.testing.assert_array_equal(
        np.stack([found[order[i]] for i in inds]), truth[inds])


def test_streams_without_timestamps_are_counted_from_the_start(
        videos, tmp_path):
    """A raw H.264 elementary stream has no timestamps: the frames are
    counted from the first one (nothing skipped), still exact."""
    _, truth = videos['h264']
    raw = write_encoded_video(tmp_path / 'raw.h264', 'libx264',
                              options={'g': '24', 'bf': '3'},
                              num_frames=NUM_FRAMES, height=HEIGHT,
                              width=WIDTH)
    with av.open(raw) as container:
        stamps = [p.pts for p in container.demux(video=0) if p.size]
    assert None in stamps
    results = PyAVInit()(dict(filename=raw))
    assert results['total_frames'] == NUM_FRAMES
    inds = INDEX_SETS[1]
    results['frame_inds'] = inds
    imgs = np.stack(PyAVDecode()(results)['imgs'])
    np.testing.assert_array_equal(imgs, truth[inds])


@pytest.fixture(scope='module')
def large_h264(tmp_path_factory):
    """An H.264 video with frames of 480x320 pixels, the smallest size
    that gets frame threads."""
    from mmvid.datasets.transforms.exact_seek import FRAME_THREADS_MIN_PIXELS
    assert 480 * 320 == FRAME_THREADS_MIN_PIXELS
    path = write_encoded_video(
        tmp_path_factory.mktemp('large') / 'large.mp4', 'libx264',
        options={'g': '24', 'bf': '3'}, num_frames=NUM_FRAMES, height=320,
        width=480)
    return path, decode_every_frame(path)


@pytest.mark.parametrize('threads', [1, 2])
@pytest.mark.parametrize('which', ['small', 'large'])
def test_frame_threads_only_for_large_frames_with_spare_cores(
        videos, large_h264, monkeypatch, threads, which):
    """DecordDecode's PyAV route: frame threads where the process has
    threads to spare (forced: 1 and 2) and the frames have >= 480x320
    pixels, else one thread; the frames are the straight decode's either
    way."""
    from mmvid.datasets.transforms import decord_decode as decord_module
    path, truth = videos['h264'] if which == 'small' else large_h264
    monkeypatch.setattr(decord_module, 'auto_decoder_threads',
                        lambda: threads)
    settings = []
    real = exact_seek.set_frame_threads

    def spy(stream, num_threads, packets):
        real(stream, num_threads, packets)
        settings.append((stream.thread_type.name,
                         stream.codec_context.thread_count))

    monkeypatch.setattr(exact_seek, 'set_frame_threads', spy)
    for inds in INDEX_SETS:
        np.testing.assert_array_equal(decord_decode(path, inds, 'auto'),
                                      truth[inds])
    frame_threads = which == 'large' and threads == 2
    assert set(settings) == {('FRAME', 2) if frame_threads else ('SLICE', 1)}


STRESS = '''
import sys, numpy as np, torch, av
from mmvid.datasets.transforms.exact_seek import decode_exact
from mmvid.datasets.transforms.exact_seek import set_frame_threads
path, frames = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(0)
for k in range(150):
    container = av.open(path)
    set_frame_threads(container.streams.video[0], 2)
    assert container.streams.video[0].thread_type.name == 'FRAME'
    start = int(rng.integers(0, frames - 8))
    decode_exact(container, np.array([start, start + 5]), path, 'PyAV', frames)
    container.close()
print('done')
'''


def test_frame_threaded_partial_decodes_do_not_hang(large_h264):
    """150 clips decoded partly (stopping before the end) with 2 frame
    threads and torch imported (a set-up of the reported hangs) finish well
    within the time limit (about 4 s)."""
    import os
    import subprocess
    from pathlib import Path
    repo = str(Path(__file__).resolve().parents[3])
    done = subprocess.run(
        [sys.executable, '-c', STRESS, large_h264[0], str(NUM_FRAMES)],
        capture_output=True, text=True, timeout=120,
        env=dict(os.environ, PYTHONPATH=repo))
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == 'done'


def test_no_frame_threads_while_pyav_logs_through_python(large_h264):
    """Both answers of the log check, forced: with PyAV's Python log
    callback on, a large frame gets one thread; off (PyAV's default), frame
    threads."""
    import av.logging

    from mmvid.datasets.transforms.exact_seek import set_frame_threads
    before = av.logging.get_level()
    assert before is None  # PyAV's default: no Python callback
    try:
        for level, expected in ((av.logging.WARNING, ('SLICE', 1)),
                                (None, ('FRAME', 2))):
            av.logging.set_level(level)
            with av.open(large_h264[0]) as container:
                stream = container.streams.video[0]
                set_frame_threads(stream, 2)
                assert (stream.thread_type.name,
                        stream.codec_context.thread_count) == expected
    finally:
        av.logging.set_level(before)


def test_frame_threads_for_small_frames_at_high_bit_rates(tmp_path):
    """Both answers of the bit-rate rule on small frames: film grain at a
    high quality (> 0.8 bits per pixel) gets frame threads, the smooth
    fixture (far below) one thread; the rule reads the packets' sizes."""
    rng = np.random.default_rng(0)
    path = write_encoded_video(
        tmp_path / 'grain.mp4', options={'crf': '10'}, height=HEIGHT,
        width=WIDTH, frames=[rng.integers(0, 256, (HEIGHT, WIDTH, 3),
                                          dtype=np.uint8) for _ in range(12)])
    for name, expected in ((path, 'FRAME'), ('smooth', 'SLICE')):
        video = path if name == path else write_encoded_video(
            tmp_path / 'smooth.mp4', num_frames=NUM_FRAMES, height=HEIGHT,
            width=WIDTH)
        with av.open(video) as container:
            stream = container.streams.video[0]
            packets = [p for p in container.demux(stream) if p.size]
            bits = 8 * sum(p.size for p in packets) / len(packets)
            assert (bits / (WIDTH * HEIGHT) > 0.8) == (expected == 'FRAME')
            exact_seek.set_frame_threads(stream, 2, packets)
            assert stream.thread_type.name == expected


@pytest.mark.parametrize('last_index', [0, 5, 30, NUM_FRAMES - 1])
def test_demux_stops_once_the_first_timestamps_are_final(videos, last_index):
    """For a clip near the start, the packets are read only until the
    ``last_index + 1`` smallest timestamps can no longer change (B-frames
    reorder them): fewer packets than the video has, the same smallest
    timestamps as a full read, and the rest readable afterwards."""
    path, truth = videos['h264']
    with av.open(path) as container:
        everything, _ = exact_seek._demux(container, path, 'PyAV')
    with av.open(path) as container:
        packets, demuxer = exact_seek._demux(container, path, 'PyAV',
                                             last_index)
        rest = exact_seek._read_rest(demuxer, path, 'PyAV')
    assert len(everything) == NUM_FRAMES
    full = sorted(p.pts for p in everything)
    assert sorted(p.pts for p in packets)[:last_index + 1] == \
        full[:last_index + 1]
    assert [p.pts for p in packets + rest] == [p.pts for p in everything]
    if last_index < NUM_FRAMES - 8:
        assert len(packets) < NUM_FRAMES
    # and the frames of a clip ending there are exact
    inds = np.arange(max(0, last_index - 4), last_index + 1)
    with av.open(path) as container:
        frames = exact_seek.decode_exact(container, inds, path, 'PyAV',
                                         NUM_FRAMES)
    np.testing.assert_array_equal(np.stack(frames), truth[inds])
