"""Which frames a clip sampler reads: pure functions of the video length.

Notation: ``N`` = ``total_frames``, ``L`` = ``clip_len``, ``I`` =
``frame_interval``, ``n`` = ``num_clips``. A clip is ``L`` frames ``I``
apart; its *offset* is its first frame. Every function returns 0-based
``int64`` arrays; the transforms in ``sampling.py`` add the dataset's
``start_index``. Randomness comes only from the ``numpy.random.Generator``
passed in, so equal generators give equal indices.

These are the index rules of mmaction2's ``SampleFrames``,
``DenseSampleFrames`` and ``UntrimmedSampleFrames``, restated:

* train offsets (``train_clip_offsets``): ``n`` segments of the valid start
  range, one random start in each;
* test offsets (``testing_clip_offsets``): ``'centre'`` (mmaction2 0.x) takes
  the centre of each segment, ``'uniform'`` (mmaction2 1.x, PySlowFast)
  spreads the clips evenly from the first to the last possible start;
* dense offsets (``dense_clip_offsets``): clips ``sample_range // n`` apart
  inside a window of ``sample_range`` frames;
* untrimmed (``untrimmed_frame_indices``): one short clip every ``I``
  frames over the whole video.
"""
from typing import Optional

import numpy as np

SPACINGS = ('centre', 'uniform')
OUT_OF_BOUND_OPTS = ('loop', 'repeat_last')


def train_clip_offsets(total_frames: int,
                       clip_len: int,
                       frame_interval: int,
                       num_clips: int,
                       rng: np.random.Generator,
                       keep_tail_frames: bool = False) -> np.ndarray:
    """Random clip offsets for training.

    With ``span = L * I`` and ``room = N - span + 1`` (the number of
    starts whose clip fits), and ``keep_tail_frames=False``:

    * ``avg = room // n``; if ``avg > 0``:
      ``offsets = arange(n) * avg + rng.integers(avg, size=n)``
      (one uniform start in each of ``n`` segments of ``avg`` starts);
    * else if ``N > max(n, span)`` (fewer starts than clips):
      ``offsets = sort(rng.integers(room, size=n))``;
    * else if ``avg == 0`` (``0 <= room < n``):
      ``offsets = around(arange(n) * room / n)`` (no randomness);
    * else (the video is shorter than ``span - 1``): ``offsets = 0``.

    With ``keep_tail_frames=True`` the segments are float-sized so the last
    frames can be drawn too: ``avg = room / n``; if ``N > span - 1``,
    ``offsets = int(arange(n) * avg + rng.uniform(0, avg, size=n))``,
    otherwise 0.

    Args:
        total_frames: N, at least 1.
        clip_len: L.
        frame_interval: I.
        num_clips: n.
        rng: The generator to draw from.
        keep_tail_frames: Use the float-sized segments.

    Returns:
        np.ndarray: int64 ``[n]`` offsets in ``[0, N)``.
    """
    span = clip_len * frame_interval
    room = total_frames - span + 1
    if keep_tail_frames:
        if room < 1:
            return np.zeros(num_clips, dtype=np.int64)
        avg = room / num_clips
        offsets = (np.arange(num_clips) * avg +
                   rng.uniform(0, avg, size=num_clips))
        return offsets.astype(np.int64)
    avg = room // num_clips
    if avg > 0:
        return (np.arange(num_clips) * avg +
                rng.integers(avg, size=num_clips)).astype(np.int64)
    if total_frames > max(num_clips, span):
        return np.sort(rng.integers(room, size=num_clips)).astype(np.int64)
    if avg == 0:
        return np.around(np.arange(num_clips) * (room / num_clips)).astype(
            np.int64)
    return np.zeros(num_clips, dtype=np.int64)


def centred_test_offsets(total_frames: int,
                         clip_len: int,
                         frame_interval: int,
                         num_clips: int,
                         twice_sample: bool = False) -> np.ndarray:
    """mmaction2 0.x test offsets: the centre of each of ``n`` segments.

    With ``span = L * I`` and, when ``N > span - 1``,
    ``avg = (N - span + 1) / n`` (float) and ``base = arange(n) * avg``:
    ``offsets = int(base + avg / 2)``; with ``twice_sample`` the segment
    starts ``int(base)`` follow, giving ``2n`` clips. A video shorter than
    ``span - 1`` frames gives offsets 0 (``n``, or ``2n`` with
    ``twice_sample``, clips).

    Example: ``N=300, L=32, I=2, n=10`` gives
    ``[11, 35, 59, 82, 106, 130, 154, 177, 201, 225]``.

    Returns:
        np.ndarray: int64 ``[n]`` (``[2n]`` with ``twice_sample``).
    """
    span = clip_len * frame_interval
    if total_frames <= span - 1:
        return np.zeros(num_clips * (2 if twice_sample else 1),
                        dtype=np.int64)
    avg = (total_frames - span + 1) / num_clips
    base = np.arange(num_clips) * avg
    offsets = (base + avg / 2.0).astype(np.int64)
    if twice_sample:
        offsets = np.concatenate([offsets, base.astype(np.int64)])
    return offsets


def uniform_test_offsets(total_frames: int, clip_len: int,
                         frame_interval: int, num_clips: int) -> np.ndarray:
    """mmaction2 1.x / PySlowFast test offsets, from the first possible
    start to the last.

    The clip spans ``span = (L - 1) * I + 1`` frames (first to last frame
    read) and ``max_offset = max(N - span, 0)``. With ``n > 1`` clips,
    ``offsets = round(arange(n) * max_offset / (n - 1))`` (numpy's
    round-half-to-even); with one clip, ``[max_offset // 2]``.

    Example: ``N=300, L=32, I=2, n=10`` gives
    ``[0, 26, 53, 79, 105, 132, 158, 184, 211, 237]``.

    Returns:
        np.ndarray: int64 ``[n]``.
    """
    span = (clip_len - 1) * frame_interval + 1
    max_offset = max(total_frames - span, 0)
    if num_clips == 1:
        return np.array([max_offset // 2], dtype=np.int64)
    step = max_offset / (num_clips - 1)
    return np.round(np.arange(num_clips) * step).astype(np.int64)


def testing_clip_offsets(total_frames: int,
                      clip_len: int,
                      frame_interval: int,
                      num_clips: int,
                      spacing: str = 'centre',
                      twice_sample: bool = False) -> np.ndarray:
    """Deterministic clip offsets for testing.

    ``spacing='centre'``: ``centred_test_offsets`` (mmaction2 0.x).
    ``spacing='uniform'``: ``uniform_test_offsets`` (mmaction2 1.x) when
    ``L > 1``; single-frame clips (``L == 1``, 2D models) keep the centred
    scheme, as in 1.x. ``twice_sample`` is defined for the centred scheme
    only.

    Returns:
        np.ndarray: int64 ``[n]`` (``[2n]`` with ``twice_sample``).

    Raises:
        ValueError: An unknown ``spacing``, or ``twice_sample`` with
            ``spacing='uniform'`` and ``clip_len > 1``.
    """
    if spacing not in SPACINGS:
        raise ValueError(f'spacing must be one of {SPACINGS}, got '
                         f'{spacing!r}')
    if spacing == 'centre' or clip_len == 1:
        return centred_test_offsets(total_frames, clip_len, frame_interval,
                                    num_clips, twice_sample)
    if twice_sample:
        raise ValueError("twice_sample is defined for spacing='centre' "
                         "(or clip_len == 1), not for spacing='uniform'")
    return uniform_test_offsets(total_frames, clip_len, frame_interval,
                                num_clips)



def dense_clip_offsets(total_frames: int,
                       num_clips: int,
                       sample_range: int,
                       num_sample_positions: int,
                       test_mode: bool,
                       rng: Optional[np.random.Generator] = None
                       ) -> np.ndarray:
    """``DenseSampleFrames`` offsets: ``n`` clips ``sample_range // n``
    frames apart, from one window start (train) or from
    ``num_sample_positions`` window starts (test).

    With ``last = max(0, N - sample_range)`` (the last window start) and
    ``steps = arange(n) * (sample_range // n)``:

    * train: ``start = 0`` if ``last == 0`` else
      ``rng.integers(0, last)`` (``last`` itself is never drawn, as in
      mmaction2); ``offsets = (start + steps) % N``;
    * test: ``starts = floor(linspace(0, last, num_sample_positions))``;
      ``offsets = concat over starts of (start + steps) % N``.

    Example (test): ``N=300, sample_range=64, n=1`` gives
    ``[0, 26, 52, 78, 104, 131, 157, 183, 209, 236]``.

    Returns:
        np.ndarray: int64 ``[n]`` (train) or ``[num_sample_positions * n]``
        (test, position-major).
    """
    last = max(0, total_frames - sample_range)
    steps = np.arange(num_clips, dtype=np.int64) * (sample_range // num_clips)
    if test_mode:
        starts = np.floor(np.linspace(0, last,
                                      num_sample_positions)).astype(np.int64)
    else:
        if rng is None:
            raise ValueError('dense_clip_offsets needs rng in train mode')
        start = 0 if last == 0 else int(rng.integers(0, last))
        starts = np.array([start], dtype=np.int64)
    return ((starts[:, None] + steps[None, :]) % total_frames).reshape(-1)


def clip_frame_indices(offsets: np.ndarray,
                       clip_len: int,
                       frame_interval: int,
                       total_frames: int,
                       out_of_bound_opt: str = 'loop',
                       temporal_jitter: bool = False,
                       rng: Optional[np.random.Generator] = None
                       ) -> np.ndarray:
    """The frames of clips starting at ``offsets``.

    ``inds[c, t] = offsets[c] + t * I`` (``+ rng.integers(I)`` per frame
    with ``temporal_jitter``, drawn for all frames at once, clip-major).
    Indices ``>= N`` are then mapped back into the video:

    * ``'loop'``: ``inds % N``;
    * ``'repeat_last'``: replaced by the clip's largest index ``< N``
      (``N - 1`` if none of the clip's indices is ``< N``).

    Args:
        offsets: ``[num_clips]`` first frame of each clip.
        clip_len: L.
        frame_interval: I.
        total_frames: N, at least 1.
        out_of_bound_opt: ``'loop'`` or ``'repeat_last'``.
        temporal_jitter: Add a random ``[0, I)`` shift to each frame.
        rng: The generator, needed with ``temporal_jitter``.

    Returns:
        np.ndarray: int64 ``[num_clips * L]``, clip after clip.
    """
    if out_of_bound_opt not in OUT_OF_BOUND_OPTS:
        raise ValueError(f'out_of_bound_opt must be one of '
                         f'{OUT_OF_BOUND_OPTS}, got {out_of_bound_opt!r}')
    offsets = np.asarray(offsets, dtype=np.int64).reshape(-1)
    inds = offsets[:, None] + np.arange(clip_len, dtype=np.int64) * \
        frame_interval
    if temporal_jitter:
        if rng is None:
            raise ValueError('clip_frame_indices needs rng with '
                             'temporal_jitter')
        inds = inds + rng.integers(frame_interval,
                                   size=inds.size).reshape(inds.shape)
    if out_of_bound_opt == 'loop':
        inds = inds % total_frames
    else:
        valid = inds < total_frames
        last_valid = np.where(valid, inds, -1).max(axis=1)
        last_valid[last_valid < 0] = total_frames - 1
        inds = np.where(valid, inds, last_valid[:, None])
    return inds.reshape(-1).astype(np.int64)


def untrimmed_frame_indices(total_frames: int, clip_len: int,
                            frame_interval: int) -> np.ndarray:
    """Short clips centred every ``I`` frames over a whole (untrimmed) video.

    ``centres = arange(I // 2, N, I)``; each clip is
    ``centre + arange(-(L // 2), L - L // 2)`` (consecutive frames), clipped
    to ``[0, N - 1]``.

    Example: ``N=40, L=3, I=16``: centres ``[8, 24]``, indices
    ``[7, 8, 9, 23, 24, 25]``.

    Returns:
        np.ndarray: int64 ``[num_centres * L]``; ``num_centres`` is
        ``len(result) // L`` (0 when ``N <= I // 2``).
    """
    centres = np.arange(frame_interval // 2, total_frames, frame_interval,
                        dtype=np.int64)
    within = np.arange(-(clip_len // 2), clip_len - clip_len // 2,
                       dtype=np.int64)
    inds = centres[:, None] + within[None, :]
    return np.clip(inds, 0, total_frames - 1).reshape(-1)
