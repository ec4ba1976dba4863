"""Exact frames of a video through PyAV (FFmpeg), decoding as little as
the codec allows.

A clip in the middle of a video needs every frame from the key frame
before it: the pre-roll. decord (and mmaction2's ``DecordDecode``) decodes
all of it. :func:`decode_exact` decodes the same span but asks FFmpeg to
skip the *non-reference* frames that are not wanted (``skip_frame =
'NONREF'``): no other frame is predicted from them, so skipping them
cannot change any frame that is decoded, and with x264's defaults they
are about half of all frames. Measured on 2 cores, a 32x2 clip: 1.7x
decord's ``get_batch`` on 340x256 H.264 and on 720p (frames bit-identical;
``benchmarks/decoders.py``).

Frame ``i`` is the packet with the ``i``-th smallest timestamp, the
numbering decord uses. Where timestamps are missing or repeat, or the
decoder does not give a wanted frame back from the key frame (a stream
that needs an earlier start), the frames are counted from the first one
instead, with nothing skipped: slower, still exact.

The functions take an open ``av`` container; nothing here imports PyAV.
"""
import heapq
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from ..errors import BadSampleError
from .decode_utils import one_line

# Codecs whose frames (through this module) were bit-identical to decord
# 0.6.0's ``get_batch`` on generated videos: 8-bit 4:2:0 / 4:2:2 / 4:4:4,
# limited and full range, BT.601 and BT.709 tags, B-frames, odd sizes
# (tests/datasets/transforms/test_exact_seek.py). Not in the list, because
# decord's frames differ from a straight decode of every frame there:
# MPEG-2 / MPEG-4 part 2 with B-frames (decord returns frames two positions
# late after a seek) and HEVC with open GOPs (x265's default); 10-bit
# frames are converted differently. ``DecordDecode`` keeps decord for them
# so that its numbers never change.
DECORD_IDENTICAL_CODECS = ('h264', 'vp9')
EIGHT_BIT_FORMATS = ('yuv420p', 'yuvj420p', 'yuv422p', 'yuvj422p', 'yuv444p',
                     'yuvj444p')


def decord_identical(stream: Any) -> bool:
    """Whether :func:`decode_exact` gives decord's very frames for the
    video ``stream`` (an ``av`` video stream): its codec is one of
    ``DECORD_IDENTICAL_CODECS`` with an 8-bit pixel format."""
    context = stream.codec_context
    return (context.name in DECORD_IDENTICAL_CODECS
            and context.pix_fmt in EIGHT_BIT_FORMATS)


# Frame threads pay for large frames or high bit rates. Measured on 2
# cores, 32x2 clips of x264 videos, 2 frame threads vs one thread:
# 1280x720 1.01-1.45x, 640x272 0.96-1.21x faster; 340x256 at 0.07-0.36 bits
# per pixel 0.92-0.98x (handing frames between threads costs more than
# decoding a small frame), at 1.28 bits per pixel 1.11x.
FRAME_THREADS_MIN_PIXELS = 480 * 320
FRAME_THREADS_MIN_BITS_PER_PIXEL = 0.8


def set_frame_threads(stream: Any, num_threads: int,
                      packets: Sequence[Any] = ()) -> None:
    """Before the first decode: ``num_threads`` frame threads for the video
    ``stream`` where ``num_threads > 1``, FFmpeg's log is not routed through
    Python, and its frames have at least ``FRAME_THREADS_MIN_PIXELS``
    pixels or its ``packets`` at least ``FRAME_THREADS_MIN_BITS_PER_PIXEL``
    bits per pixel; else one thread. (Slice threads gain nothing on
    single-slice streams, x264's default.)

    With PyAV's Python log callback on (``av.logging.set_level(LEVEL)``),
    a frame thread that logs waits for the GIL that the decoding thread
    holds while it waits for the frame threads: 2 of 15 runs of 150 partial
    decodes hung here. PyAV leaves the callback off unless asked."""
    import av.logging
    context = stream.codec_context
    pixels = context.width * context.height
    bits = 8 * sum(packet.size for packet in packets) / max(len(packets), 1)
    if (num_threads > 1 and av.logging.get_level() is None
            and (pixels >= FRAME_THREADS_MIN_PIXELS or
                 bits >= FRAME_THREADS_MIN_BITS_PER_PIXEL * pixels)):
        stream.thread_type = 'FRAME'
        context.thread_count = num_threads
    else:
        stream.thread_type = 'SLICE'
        context.thread_count = 1


def _rgb_converter() -> Any:
    """A function ``frame -> [H, W, 3] uint8 RGB`` that reuses one swscale
    context for all frames (a context per frame, as ``to_ndarray`` makes,
    costs more than the conversion on small frames)."""
    from av.video.reformatter import VideoReformatter
    reformatter = VideoReformatter()
    return lambda frame: reformatter.reformat(frame, format='rgb24'
                                              ).to_ndarray()


def _demux(container: Any, path: str, backend: str,
           last_index: Optional[int] = None) -> Tuple[List[Any], Iterator]:
    """The non-empty packets of the first video stream, in decode order,
    and the demuxer, to read the rest with :func:`_read_rest`.

    With ``last_index``, reading stops once the ``last_index + 1``
    smallest timestamps are final: every later packet has ``pts >= dts``
    and a ``dts`` at least the current one's, so a timestamp below the
    current ``dts`` can no longer be preceded by one not read yet. (A long
    video is then not read to its end for a clip at its start.) Where a
    packet lacks a timestamp or breaks these rules, everything is read."""
    stream = container.streams.video[0]
    demuxer = container.demux(stream)
    packets, pending, final, last_dts = [], [], 0, None
    try:
        for packet in demuxer:
            if not packet.size:
                continue
            packets.append(packet)
            if last_index is None:
                continue
            pts, dts = packet.pts, packet.dts
            if pts is None or dts is None or pts < dts or (
                    last_dts is not None and dts < last_dts):
                last_index = None  # read everything
                continue
            last_dts = dts
            heapq.heappush(pending, pts)
            while pending and pending[0] < dts:
                heapq.heappop(pending)
                final += 1
            if final > last_index:
                break
    except Exception as error:  # av.FFmpegError on a corrupt container
        raise BadSampleError(f'{backend} could not read the packets of '
                             f'{path}: {one_line(error)}') from error
    return packets, demuxer


def _read_rest(demuxer: Iterator, path: str, backend: str) -> List[Any]:
    """The non-empty packets a :func:`_demux` demuxer has not given yet."""
    try:
        return [packet for packet in demuxer if packet.size]
    except Exception as error:  # av.FFmpegError on a corrupt container
        raise BadSampleError(f'{backend} could not read the packets of '
                             f'{path}: {one_line(error)}') from error


def _start_packet(packets: Sequence[Any], first_pts: int) -> int:
    """Position (decode order) of the last key-frame packet whose
    timestamp is <= ``first_pts`` (0 where none is)."""
    start = 0
    for position, packet in enumerate(packets):
        if packet.is_keyframe and packet.pts <= first_pts:
            start = position
    return start


def _decode_skipping(context: Any, packets: Sequence[Any],
                     wanted: Dict[int, int], convert: Any) -> Dict[int, Any]:
    """Decode ``packets`` (from a key frame on), skipping the unwanted
    non-reference frames; return ``{pts: RGB frame}`` of the ``wanted``
    timestamps found.

    No packet after the last wanted one (in decode order) is sent: every
    frame a wanted frame refers to precedes it in decode order, so the
    decoder is drained instead of being fed the packets it would otherwise
    need before it lets the last frames out (B-frame reordering)."""
    last = max((k for k, packet in enumerate(packets) if packet.pts in wanted),
               default=-1)
    found = {}
    mode = None
    try:
        for packet in packets[:last + 1]:
            packet_mode = 'DEFAULT' if packet.pts in wanted else 'NONREF'
            if packet_mode != mode:
                context.skip_frame = mode = packet_mode
            for frame in context.decode(packet):
                if frame.pts in wanted and frame.pts not in found:
                    found[frame.pts] = convert(frame)
        context.skip_frame = 'DEFAULT'
        for frame in context.decode(None):  # frames held back for reorder
            if frame.pts in wanted and frame.pts not in found:
                found[frame.pts] = convert(frame)
    finally:
        context.skip_frame = 'DEFAULT'
    return found


def count_from_start(frames: Iterator[Any], unique: np.ndarray, path: str,
                     backend: str, total_frames: int,
                     convert: Optional[Any] = None,
                     first_index: int = 0) -> List[np.ndarray]:
    """Walk decoded ``frames`` (the first being frame ``first_index``),
    converting those in ``unique`` (sorted, distinct) and stopping after the
    last: exact for every stream whose frames are decoded in order.

    Raises:
        BadSampleError: a frame fails to decode, or the stream ends before
            the last index (truncated file).
    """
    convert = convert or _rgb_converter()
    position = first_index
    wanted = iter(unique.tolist())
    target = next(wanted)
    out = []
    try:
        for frame in frames:
            if position == target:
                out.append(convert(frame))
                target = next(wanted, None)
                if target is None:
                    return out
            position += 1
    except Exception as error:  # av.FFmpegError on a corrupt packet
        raise BadSampleError(
            f'{backend} could not decode frame {position} of {path} (needed '
            f'up to frame {int(unique[-1])}): {one_line(error)}') from error
    raise BadSampleError(
        f'{backend} could not read frame {target} of {path}: the stream ended '
        f'after {position} frames (the header says {total_frames}): '
        'truncated or corrupt stream')


def decode_exact(container: Any, unique: np.ndarray, path: str,
                 backend: str, total_frames: int,
                 frame_threads: Optional[int] = None) -> List[np.ndarray]:
    """The frames ``unique`` of the open ``av`` ``container``'s first video
    stream, decoding from the key frame before the first one and skipping
    the unwanted non-reference frames.

    Args:
        container: an ``av`` container opened for reading, not yet read.
        unique: ``[U]`` sorted, distinct frame indices.
        path: the video file, for messages.
        backend: the decoder's name, for messages.
        total_frames: the video's frame count as its reader reported it.
        frame_threads: ``None`` keeps the stream's thread settings; an int
            is given to :func:`set_frame_threads` with the packets.

    Returns:
        ``U`` arrays ``[H, W, 3]`` uint8 RGB, in ``unique``'s order.

    Raises:
        BadSampleError: the packets cannot be read, an index has no packet
            (truncated stream), or a frame fails to decode.
    """
    packets, demuxer = _demux(container, path, backend, int(unique[-1]))
    if frame_threads is not None:
        set_frame_threads(container.streams.video[0], frame_threads, packets)
    stamps = [packet.pts for packet in packets]
    convert = _rgb_converter()
    if None not in stamps and len(set(stamps)) == len(stamps):
        order = sorted(stamps)
        if int(unique[-1]) >= len(order):
            raise BadSampleError(
                f'{backend} could not read frame {int(unique[-1])} of {path}:'
                f' the stream has {len(order)} frames (the header says '
                f'{total_frames}): truncated or corrupt stream')
        wanted = {order[index]: k for k, index in enumerate(unique.tolist())}
        start = _start_packet(packets, order[int(unique[0])])
        context = container.streams.video[0].codec_context
        try:
            found = _decode_skipping(context, packets[start:], wanted,
                                     convert)
        except Exception as error:  # av.FFmpegError on a corrupt packet
            raise BadSampleError(
                f'{backend} could not decode frames {unique.tolist()} of '
                f'{path}: {one_line(error)}') from error
        if len(found) == len(wanted):
            return [found[order[index]] for index in unique.tolist()]
    # No usable timestamps, or the decoder held frames back: count frames
    # from the first packet, decoding everything.
    packets += _read_rest(demuxer, path, backend)
    return count_from_start(_decode_all(container, packets), unique, path,
                            backend, total_frames, convert)


def _decode_all(container: Any, packets: Sequence[Any]) -> Iterator[Any]:
    """Every frame of ``packets`` in output order, from a flushed decoder."""
    context = container.streams.video[0].codec_context
    context.flush_buffers()
    for packet in packets:
        yield from context.decode(packet)
    yield from context.decode(None)
