"""Frame samplers: exact indices of mmaction2's SampleFrames (0.x test
spacing, 1.x 'uniform' spacing, train branches), DenseSampleFrames and
UntrimmedSampleFrames, plus argument and key checks.

Expected values are either hand-computed numbers or the documented formulas
re-stated here with the same generator seed.
"""
import numpy as np
import pytest

from mmvid.datasets.errors import BadSampleError
from mmvid.datasets.transforms.arg_checks import accepts_aliases
from mmvid.datasets.transforms.frame_indices import (clip_frame_indices,
                                                     dense_clip_offsets,
                                                     train_clip_offsets,
                                                     untrimmed_frame_indices)
from mmvid.datasets.transforms.sampling import (DenseSampleFrames,
                                                SampleFrames,
                                                UntrimmedSampleFrames)
from mmvid.registry import TRANSFORMS

# 0.x test starts (rawframes, +1) of 10 clips of 32x2 frames from 300 frames
CENTRE_STARTS_300 = [12, 36, 60, 83, 107, 131, 155, 178, 202, 226]
# 1.x / PySlowFast spacing, 0-based
UNIFORM_STARTS_300 = [0, 26, 53, 79, 105, 132, 158, 184, 211, 237]
# DenseSampleFrames test starts (+1), num_clips=1, 10 positions
DENSE_STARTS_300 = [1, 27, 53, 79, 105, 132, 158, 184, 210, 237]


def sample(total_frames, start_index=1, seed=0, **extra):
    return dict(total_frames=total_frames, start_index=start_index,
                rng=np.random.default_rng(seed), **extra)


def clips(results):
    """``frame_inds`` as ``[clips, clip_len]``."""
    return results['frame_inds'].reshape(-1, results['clip_len'])


def test_centre_test_sampling_at_300_frames():
    out = SampleFrames(32, 2, 10, test_mode=True)(sample(300))
    inds = out['frame_inds']
    assert inds.dtype == np.int64 and inds.ndim == 1 and len(inds) == 320
    assert inds[::32].tolist() == CENTRE_STARTS_300
    assert (np.diff(clips(out), axis=1) == 2).all()
    assert clips(out)[-1, -1] == 288  # the last clip covers 226..288
    assert (out['clip_len'], out['frame_interval'], out['num_clips']) == (
        32, 2, 10)


@pytest.mark.parametrize('start_index', [0, 1])
def test_uniform_test_sampling_at_300_frames(start_index):
    out = SampleFrames(32, 2, 10, test_mode=True, test_spacing='uniform')(
        sample(300, start_index))
    assert len(out['frame_inds']) == 320
    assert out['frame_inds'][::32].tolist() == [
        s + start_index for s in UNIFORM_STARTS_300]
    assert (np.diff(clips(out), axis=1) == 2).all()
    assert clips(out)[-1, -1] == 299 + start_index  # last clip 237..299


def test_dense_test_sampling_at_300_frames():
    out = DenseSampleFrames(32, 2, num_clips=1, test_mode=True)(sample(300))
    assert len(out['frame_inds']) == 320
    assert out['frame_inds'][::32].tolist() == DENSE_STARTS_300
    assert (np.diff(clips(out), axis=1) == 2).all()
    assert out['num_clips'] == 1  # not multiplied by the 10 positions


@pytest.mark.parametrize('spacing', ['centre', 'uniform'])
@pytest.mark.parametrize('start_index', [0, 1])
def test_one_test_clip_at_300_frames(spacing, start_index):
    out = SampleFrames(32, 2, 1, test_mode=True, test_spacing=spacing)(
        sample(300, start_index))
    assert out['frame_inds'].tolist() == [118 + start_index + 2 * t
                                          for t in range(32)]


def test_video_of_exactly_one_clip_span_starts_every_clip_at_0():
    out = SampleFrames(32, 2, 10, test_mode=True)(sample(64))
    assert out['frame_inds'].tolist() == list(range(1, 64, 2)) * 10


def test_short_video_loops_in_test_mode():
    out = SampleFrames(32, 2, 10, test_mode=True)(sample(40))
    clip = list(range(1, 40, 2)) + list(range(1, 24, 2))
    assert len(clip) == 32
    assert out['frame_inds'].tolist() == clip * 10


def test_short_video_loops_in_train_mode():
    out = SampleFrames(32, 2, 1)(sample(50))
    assert out['frame_inds'].tolist() == (list(range(1, 50, 2)) +
                                          list(range(1, 14, 2)))


@pytest.mark.parametrize('transform', [
    SampleFrames(32, 2, 3),
    SampleFrames(32, 2, 3, keep_tail_frames=True),
    SampleFrames(32, 2, 3, temporal_jitter=True),
    SampleFrames(32, 2, 3, out_of_bound_opt='repeat_last'),
    SampleFrames(32, 2, 3, test_mode=True),
    SampleFrames(32, 2, 3, test_mode=True, twice_sample=True),
    SampleFrames(32, 2, 3, test_mode=True, test_spacing='uniform'),
    DenseSampleFrames(8, 2, 4),
    DenseSampleFrames(8, 2, 4, test_mode=True, temporal_jitter=True),
    UntrimmedSampleFrames(5, 1),
])
@pytest.mark.parametrize('start_index', [0, 1])
def test_one_frame_video_reads_only_that_frame(transform, start_index):
    out = transform(sample(1, start_index))
    assert len(out['frame_inds']) > 0
    assert (out['frame_inds'] == start_index).all()


def test_repeat_last_repeats_each_clips_last_valid_frame():
    out = SampleFrames(32, 2, 2, test_mode=True,
                       out_of_bound_opt='repeat_last')(sample(40))
    # offsets 0: frames 0, 2, ..., 38 are valid, the 12 later ones repeat 38
    clip = list(range(1, 40, 2)) + [39] * 12
    assert out['frame_inds'].tolist() == clip * 2
    # two clips at different offsets, 10 frames: each clip keeps its own max
    inds = clip_frame_indices([0, 5], 4, 3, 10, 'repeat_last')
    assert inds.tolist() == [0, 3, 6, 9, 5, 8, 8, 8]
    assert clip_frame_indices([0, 5], 4, 3, 10, 'loop').tolist() == [
        0, 3, 6, 9, 5, 8, 1, 4]


def test_twice_sample_adds_the_segment_starts():
    out = SampleFrames(32, 2, 10, test_mode=True, twice_sample=True)(
        sample(300))
    assert len(out['frame_inds']) == 640
    avg = (300 - 64 + 1) / 10
    segment_starts = [int(i * avg) + 1 for i in range(10)]
    assert segment_starts == [1, 24, 48, 72, 95, 119, 143, 166, 190, 214]
    assert out['frame_inds'][::32].tolist() == (CENTRE_STARTS_300 +
                                                segment_starts)
    assert out['num_clips'] == 10  # not doubled
    # a short video still gets 2 x num_clips clips (all at offset 0)
    short = SampleFrames(32, 2, 10, test_mode=True, twice_sample=True)(
        sample(40))
    assert len(short['frame_inds']) == 640
    assert short['frame_inds'][::32].tolist() == [1] * 20


def test_temporal_jitter_adds_per_frame_offsets_below_interval():
    out = SampleFrames(32, 4, 10, test_mode=True, temporal_jitter=True)(
        sample(1000, start_index=0, seed=3))
    plain = SampleFrames(32, 4, 10, test_mode=True)(sample(1000, 0))
    jitter = out['frame_inds'] - plain['frame_inds']
    # test mode draws nothing else: the jitter is the generator's first draw
    expected = np.random.default_rng(3).integers(4, size=320)
    assert jitter.tolist() == expected.tolist()
    assert jitter.min() == 0 and jitter.max() == 3
    # interval 1: nothing to jitter
    one = SampleFrames(8, 1, 2, test_mode=True, temporal_jitter=True)(
        sample(100, 0))
    # avg (100 - 8 + 1) / 2 = 46.5: offsets int(23.25), int(69.75)
    assert one['frame_inds'].tolist() == (list(range(23, 31)) +
                                          list(range(69, 77)))


def test_train_offsets_one_random_start_per_segment():
    out = SampleFrames(32, 2, 3)(sample(300, start_index=1, seed=0))
    rng = np.random.default_rng(0)
    avg = (300 - 64 + 1) // 3  # 79
    expected = np.arange(3) * avg + rng.integers(avg, size=3)
    assert out['frame_inds'][::32].tolist() == (expected + 1).tolist()
    assert (np.diff(clips(out), axis=1) == 2).all()
    for i, start in enumerate(expected):  # each start in its own segment
        assert i * avg <= start < (i + 1) * avg


def test_train_offsets_fewer_starts_than_clips():
    # 70 frames, span 64: 7 possible starts for 10 clips -> sorted draws
    out = SampleFrames(32, 2, 10)(sample(70, start_index=0, seed=5))
    expected = np.sort(np.random.default_rng(5).integers(7, size=10))
    assert out['frame_inds'][::32].tolist() == expected.tolist()


def test_train_offsets_deterministic_branches():
    # 64 frames, span 64: one start for 4 clips -> around(arange(4) / 4)
    out = SampleFrames(32, 2, 4)(sample(64))
    assert out['frame_inds'][::32].tolist() == [1, 1, 1, 2]
    # 63 frames (= span - 1) -> 0; shorter -> 0
    for total in (63, 50):
        out = SampleFrames(32, 2, 2)(sample(total))
        assert out['frame_inds'][::32].tolist() == [1, 1]
    rng = np.random.default_rng(0)
    assert train_clip_offsets(64, 32, 2, 4, rng).tolist() == [0, 0, 0, 1]
    assert train_clip_offsets(10, 32, 2, 3, rng).tolist() == [0, 0, 0]


def test_keep_tail_frames_uses_float_segments():
    out = SampleFrames(32, 2, 3, keep_tail_frames=True)(
        sample(300, start_index=0, seed=7))
    avg = (300 - 64 + 1) / 3
    rng = np.random.default_rng(7)
    expected = (np.arange(3) * avg + rng.uniform(0, avg, size=3)).astype(int)
    assert out['frame_inds'][::32].tolist() == expected.tolist()
    # 100 frames, 2 clips, 37 possible starts: integer segments of 18 never
    # start the second clip at 36 (the clip ending on the last frame, 99);
    # float segments of 18.5 do
    rng = np.random.default_rng(0)
    tail = {train_clip_offsets(100, 32, 2, 2, rng, keep_tail_frames=True)[1]
            for _ in range(2000)}
    no_tail = {train_clip_offsets(100, 32, 2, 2, rng)[1]
               for _ in range(2000)}
    assert tail == set(range(18, 37))
    assert no_tail == set(range(18, 36))
    short = SampleFrames(32, 2, 2, keep_tail_frames=True)(sample(40))
    assert short['frame_inds'][::32].tolist() == [1, 1]


def test_same_seed_same_indices_different_seed_different():
    sampler = SampleFrames(32, 2, 3, temporal_jitter=True)
    first = sampler(sample(300, seed=11))['frame_inds']
    again = sampler(sample(300, seed=11))['frame_inds']
    other = sampler(sample(300, seed=12))['frame_inds']
    assert first.tolist() == again.tolist()
    assert first.tolist() != other.tolist()


def test_sampling_does_not_touch_numpys_global_random_state():
    state = np.random.get_state()[1].copy()
    SampleFrames(32, 2, 3, temporal_jitter=True)(sample(300))
    DenseSampleFrames(8, 2, 4)(sample(300))
    assert (np.random.get_state()[1] == state).all()


def test_dense_train_and_test_offsets():
    # train: one window start drawn from [0, last) with last = N - range
    out = DenseSampleFrames(8, 2, num_clips=4)(sample(300, 0, seed=2))
    start = np.random.default_rng(2).integers(0, 236)
    assert out['frame_inds'][::8].tolist() == [start + 16 * c
                                               for c in range(4)]
    assert out['num_clips'] == 4
    # a video no longer than sample_range: start 0, offsets wrap modulo N
    out = DenseSampleFrames(8, 2, num_clips=4)(sample(50, 0))
    assert out['frame_inds'][::8].tolist() == [0, 16, 32, 48]
    assert clips(out)[3].tolist() == [48, 0, 2, 4, 6, 8, 10, 12]
    # test: position-major, each position's clips sample_range // n apart
    offsets = dense_clip_offsets(300, 2, 64, 3, test_mode=True)
    assert offsets.tolist() == [0, 32, 118, 150, 236, 268]


def test_dense_test_clip_count():
    out = DenseSampleFrames(4, 1, num_clips=2, num_sample_positions=5,
                            test_mode=True)(sample(200))
    assert len(out['frame_inds']) == 5 * 2 * 4
    assert out['num_clips'] == 2


def test_untrimmed_clips_are_centred_and_clipped():
    out = UntrimmedSampleFrames(3, 16)(sample(40, start_index=1))
    assert out['frame_inds'].tolist() == [8, 9, 10, 24, 25, 26]
    assert out['num_clips'] == 2 and out['clip_len'] == 3
    # centres 2 and 6 of 8 frames; clips of 6 run past both ends
    assert untrimmed_frame_indices(8, 6, 4).tolist() == [
        0, 0, 1, 2, 3, 4, 3, 4, 5, 6, 7, 7]
    default = UntrimmedSampleFrames()(sample(100, start_index=0))
    assert default['frame_inds'].tolist() == [8, 24, 40, 56, 72, 88]
    assert default['num_clips'] == 6


@pytest.mark.parametrize('build_1x', [
    lambda: UntrimmedSampleFrames(clip_len=3, clip_interval=16),
    lambda: UntrimmedSampleFrames(3, clip_interval=16),
    lambda: TRANSFORMS.build(dict(type='UntrimmedSampleFrames', clip_len=3,
                                  clip_interval=16)),
])
def test_untrimmed_takes_1x_clip_interval(build_1x):
    """mmaction2 1.x's ``clip_interval`` is 0.x's ``frame_interval``."""
    transform = build_1x()
    assert transform.frame_interval == 16 and transform.clip_len == 3
    assert UntrimmedSampleFrames.arg_aliases == dict(
        clip_interval='frame_interval')
    out = transform(sample(40, start_index=1))
    expected = UntrimmedSampleFrames(3, 16)(sample(40, start_index=1))
    assert out['frame_inds'].tolist() == expected['frame_inds'].tolist() \
        == [8, 9, 10, 24, 25, 26]
    assert out['frame_interval'] == 16


@pytest.mark.parametrize('build', [
    lambda: UntrimmedSampleFrames(frame_interval=8, clip_interval=8),
    lambda: UntrimmedSampleFrames(1, 8, clip_interval=8),
])
def test_untrimmed_refuses_both_spellings(build):
    with pytest.raises(TypeError, match="UntrimmedSampleFrames got both "
                       "'frame_interval' and 'clip_interval'"):
        build()


def test_an_alias_must_name_an_argument():
    with pytest.raises(TypeError, match="alias 'clip_interval' must name an "
                       "argument of __init__ .*got 'interval'"):
        accepts_aliases(clip_interval='interval')(UntrimmedSampleFrames)
    # checks of the aliased argument are the transform's own
    with pytest.raises(ValueError, match='frame_interval must be a positive'):
        UntrimmedSampleFrames(clip_interval=0)


def test_untrimmed_video_too_short_for_one_centre():
    with pytest.raises(BadSampleError,
                       match=r'/data/a\.mp4 has 8 frames.*centre is frame 8'):
        UntrimmedSampleFrames(1, 16)(sample(8, 0, filename='/data/a.mp4'))


@pytest.mark.parametrize('transform', [
    SampleFrames(8), DenseSampleFrames(8), UntrimmedSampleFrames()])
def test_required_and_added_keys(transform):
    name = type(transform).__name__
    for key in transform.required_keys:
        results = sample(100)
        del results[key]
        with pytest.raises(KeyError, match=f'{name} needs .*{key}'):
            transform(results)
    out = transform(sample(100))
    assert set(transform.added_keys) <= set(out)
    assert set(transform.added_keys) == {
        'frame_inds', 'clip_len', 'frame_interval', 'num_clips'}


def test_bad_sample_values():
    with pytest.raises(BadSampleError,
                       match=r'SampleFrames: /x/frames has total_frames=0'):
        SampleFrames(8)(sample(0, frame_dir='/x/frames'))
    with pytest.raises(TypeError,
                       match=r"SampleFrames: results\['total_frames'\] must "
                       'be an int, got float'):
        SampleFrames(8)(sample(30.0))
    with pytest.raises(TypeError, match=r"results\['start_index'\]"):
        DenseSampleFrames(8)(sample(30, start_index=None))


@pytest.mark.parametrize('build, error, message', [
    (lambda: SampleFrames(0), ValueError, 'clip_len must be a positive int'),
    (lambda: SampleFrames('32'), TypeError, 'clip_len must be a positive'),
    (lambda: SampleFrames(8, 1.5), TypeError, 'frame_interval'),
    (lambda: SampleFrames(8, num_clips=True), TypeError, 'num_clips'),
    (lambda: SampleFrames(8, temporal_jitter=1), TypeError,
     'temporal_jitter must be True or False'),
    (lambda: SampleFrames(8, out_of_bound_opt='wrap'), ValueError,
     "out_of_bound_opt must be one of .*'wrap'"),
    (lambda: SampleFrames(8, test_mode=True, test_spacing='center'),
     ValueError, 'test_spacing must be one of'),
    (lambda: SampleFrames(8, twice_sample=True), ValueError,
     'twice_sample=True is a test-time option'),
    (lambda: SampleFrames(8, test_mode=True, keep_tail_frames=True),
     ValueError, 'keep_tail_frames=True is a training option'),
    (lambda: SampleFrames(8, test_mode=True, twice_sample=True,
                          test_spacing='uniform'), ValueError,
     "twice_sample=True needs test_spacing='centre'"),
    (lambda: SampleFrames(8, start_index=1), TypeError, 'start_index'),
    (lambda: DenseSampleFrames(8, num_clips=8, sample_range=4), ValueError,
     r'sample_range \(4\) must be at least num_clips \(8\)'),
    (lambda: DenseSampleFrames(8, num_sample_positions=0), ValueError,
     'num_sample_positions must be a positive int'),
    (lambda: DenseSampleFrames(8, twice_sample=True), TypeError,
     'twice_sample'),
    (lambda: UntrimmedSampleFrames(frame_interval=0), ValueError,
     'frame_interval must be a positive int'),
])
def test_constructor_errors_name_the_argument(build, error, message):
    with pytest.raises(error, match=message):
        build()


def test_twice_sample_with_single_frame_uniform_clips_is_centred():
    out = SampleFrames(1, 1, 4, test_mode=True, twice_sample=True,
                       test_spacing='uniform')(sample(100, 0))
    # avg 25: centres 12, 37, 62, 87, then segment starts 0, 25, 50, 75
    assert out['frame_inds'].tolist() == [12, 37, 62, 87, 0, 25, 50, 75]


def test_built_from_the_registry():
    sampler = TRANSFORMS.build(dict(type='SampleFrames', clip_len=32,
                                    frame_interval=2, num_clips=10,
                                    test_mode=True))
    assert isinstance(sampler, SampleFrames)
    assert sampler(sample(300))['frame_inds'][::32].tolist() == \
        CENTRE_STARTS_300
    assert isinstance(TRANSFORMS.build(dict(type='DenseSampleFrames',
                                            clip_len=8)), DenseSampleFrames)
    assert isinstance(TRANSFORMS.build(dict(type='UntrimmedSampleFrames')),
                      UntrimmedSampleFrames)
