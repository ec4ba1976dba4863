"""What the demo shows: class labels drawn on frames (``labels``), labelled
videos (``labelled_video``, OpenCV I/O in ``video_io``), window-by-window
recognition of long videos and streams (``sliding_window``), the live
camera loop (``live``) and the timeline plot (``timeline``)."""
from .labelled_video import LabelledWriter, write_labelled_video
from .labels import draw_labels, label_lines
from .live import LiveResult, check_display, run_live
from .sliding_window import (Segment, SlidingWindowPredictor, check_window,
                             segment_at, window_starts)
from .timeline import plot_timeline
from .video_io import (VideoWriter, capture_fps, iter_frames, open_capture,
                       output_size, parse_source)

__all__ = [
    'LabelledWriter', 'write_labelled_video', 'draw_labels', 'label_lines',
    'LiveResult', 'check_display', 'run_live', 'Segment',
    'SlidingWindowPredictor', 'check_window', 'segment_at', 'window_starts',
    'plot_timeline', 'VideoWriter', 'capture_fps', 'iter_frames',
    'open_capture', 'output_size', 'parse_source'
]
