"""Data preparation: the synthetic demo dataset, frame extraction,
annotation lists (also from the official HMDB-51 / UCF-101 splits), video
checking and re-encoding. The CLIs in ``tools/data/`` are thin wrappers over
these functions."""
from .batch import BatchReport
from .file_list import (FileList, ListItem, count_frames,
                        kinetics_clip_name, list_from_kinetics_csv,
                        list_from_tree, read_label_map, shuffle_items,
                        split_items, write_file_list, write_label_map)
from .hmdb51_splits import read_hmdb51_split
from .rawframes import build_rawframes, extract_rawframes, output_size
from .resize import (FFmpegError, FFmpegNotFoundError, ffmpeg_command,
                     find_ffmpeg, resize_video, resize_videos)
from .split_lists import SplitEntry, list_name, resolve_entries
from .synthetic import generate_synthetic_dataset, read_synthetic_params
from .synthetic_clips import CLASS_NAMES as SYNTHETIC_CLASSES
from .ucf101_splits import read_ucf101_split
from .video_check import VideoProblem, check_video, check_videos

__all__ = [
    'BatchReport', 'FileList', 'ListItem', 'count_frames',
    'kinetics_clip_name', 'list_from_kinetics_csv', 'list_from_tree',
    'read_label_map', 'shuffle_items', 'split_items', 'write_file_list',
    'write_label_map', 'build_rawframes', 'extract_rawframes', 'output_size',
    'FFmpegError', 'FFmpegNotFoundError', 'ffmpeg_command', 'find_ffmpeg',
    'resize_video', 'resize_videos', 'generate_synthetic_dataset',
    'read_synthetic_params', 'SYNTHETIC_CLASSES', 'VideoProblem',
    'check_video', 'check_videos', 'read_hmdb51_split', 'read_ucf101_split',
    'SplitEntry', 'list_name', 'resolve_entries'
]
