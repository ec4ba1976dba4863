"""Data preparation: the synthetic demo dataset, frame extraction,
annotation lists, video checking and re-encoding. The CLIs in
``tools/data/`` are thin wrappers over these functions."""
from .batch import BatchReport
from .file_list import (FileList, ListItem, count_frames,
                        kinetics_clip_name, list_from_kinetics_csv,
                        list_from_tree, read_label_map, shuffle_items,
                        split_items, write_file_list, write_label_map)
from .rawframes import build_rawframes, extract_rawframes, output_size
from .resize import (FFmpegError, FFmpegNotFoundError, ffmpeg_command,
                     find_ffmpeg, resize_video, resize_videos)
from .synthetic import generate_synthetic_dataset, read_synthetic_params
from .synthetic_clips import CLASS_NAMES as SYNTHETIC_CLASSES
from .video_check import VideoProblem, check_video, check_videos

__all__ = [
    'BatchReport', 'FileList', 'ListItem', 'count_frames',
    'kinetics_clip_name', 'list_from_kinetics_csv', 'list_from_tree',
    'read_label_map', 'shuffle_items', 'split_items', 'write_file_list',
    'write_label_map', 'build_rawframes', 'extract_rawframes', 'output_size',
    'FFmpegError', 'FFmpegNotFoundError', 'ffmpeg_command', 'find_ffmpeg',
    'resize_video', 'resize_videos', 'generate_synthetic_dataset',
    'read_synthetic_params', 'SYNTHETIC_CLASSES', 'VideoProblem',
    'check_video', 'check_videos'
]
