"""The command line shared by ``tools/data/hmdb51/build_split_lists.py`` and
``tools/data/ucf101/build_split_lists.py``: read the official split files,
find the videos (or frame folders) locally and write
``<out-dir>/<dataset>_{train,val}_split_<N>_<format>.txt`` for each split.
"""
import argparse
import os.path as osp
from typing import Optional, Sequence

from .cli import fail, make_parser
from .file_list import read_label_map, write_file_list
from .hmdb51_splits import read_hmdb51_split
from .split_lists import SPLITS, list_name, resolve_entries
from .ucf101_splits import read_ucf101_split

READERS = {'hmdb51': read_hmdb51_split, 'ucf101': read_ucf101_split}
SPLIT_DIRS = {'hmdb51': 'testTrainMulti_7030_splits',
              'ucf101': 'ucfTrainTestlist'}
SUBSET_FILES = {'train': 'train', 'test': 'val'}
EPILOG = """examples:
  # data/{d}/rawframes/<class>/<video>/img_00001.jpg ...
  python tools/data/{d}/build_split_lists.py \\
      data/{d}/{s} data/{d}/rawframes --out-dir data/{d}
  # data/{d}/videos/<class>/<video>.avi, split 1 only
  python tools/data/{d}/build_split_lists.py \\
      data/{d}/{s} data/{d}/videos \\
      --format videos --splits 1 --out-dir data/{d}
"""


def split_parser(dataset: str,
                 description: str) -> argparse.ArgumentParser:
    """The tools' arguments."""
    p = make_parser(description,
                    EPILOG.format(d=dataset, s=SPLIT_DIRS[dataset]))
    p.add_argument('split_dir', help='folder of the official split files')
    p.add_argument('root', help='local videos or frame folders '
                   '(<class>/<video>); list paths are relative to it')
    p.add_argument('--out-dir', required=True, help='where the lists go')
    p.add_argument('--format', default='rawframes',
                   choices=['rawframes', 'videos'])
    p.add_argument('--splits', type=int, nargs='+', default=list(SPLITS),
                   choices=SPLITS, help='which splits (default: 1 2 3)')
    p.add_argument('--ext', default='avi',
                   help='extension of the local videos (videos format)')
    p.add_argument('--filename-tmpl', default='img_{:05}.jpg')
    p.add_argument('--allow-missing', action='store_true',
                   help='leave videos missing locally out of the lists and '
                   'report "N of M present" (default: an error)')
    return p


def run_split_tool(dataset: str, label_map: str, description: str,
                   argv: Optional[Sequence[str]] = None) -> int:
    """Parse ``argv``, write the lists of each split; the exit status.

    Args:
        dataset (str): 'hmdb51' or 'ucf101'.
        label_map (str): The shipped label map; the split files' classes
            must match it.
        description (str): The tool's docstring, for ``--help``.
        argv: The arguments (default: ``sys.argv[1:]``).

    Nothing is written when a split file is malformed or (without
    ``--allow-missing``) a video is missing: every list is checked before
    the first one is written.
    """
    args = split_parser(dataset, description).parse_args(argv)
    classes = read_label_map(label_map)
    if len(set(args.splits)) != len(args.splits):
        return fail(f'--splits repeats a split: {args.splits}')
    if not osp.isdir(args.out_dir):
        return fail(f'--out-dir {args.out_dir} does not exist')
    lists, reports = {}, []
    try:
        for split in args.splits:
            subsets = READERS[dataset](args.split_dir, split, classes)
            for subset, name in SUBSET_FILES.items():
                resolved = resolve_entries(
                    subsets[subset], args.root, args.format, args.ext,
                    args.filename_tmpl, args.allow_missing)
                path = osp.join(args.out_dir,
                                list_name(dataset, name, split, args.format))
                lists[path] = resolved.items
                reports.append((path, resolved))
    except (ValueError, FileNotFoundError) as e:
        return fail(e)
    missing = 0
    for path, resolved in reports:
        write_file_list(resolved.items, path, args.format)
        print(resolved.summary(path))
        for entry, problem in resolved.missing[:10]:
            print(f'  MISSING {entry.video} ({entry.where}): {problem}')
        missing += len(resolved.missing)
    if missing:
        print(f'WARNING: {missing} listed videos are missing locally and '
              'were LEFT OUT; accuracy on these lists is not comparable '
              'with published numbers')
    return 0
