"""Write UCF-101's official split lists (splits 1-3, videos or rawframes)
from ``ucfTrainTestlist``: ``ucf101_{train,val}_split_<N>_<format>.txt``,
0-based labels from ``classInd.txt`` (the order of
``tools/data/ucf101/label_map.txt``); checks that no group ``gXX`` is in both
train and test. Library: ``mmvid.data_preparation.ucf101_splits``.
"""
import os.path as osp
import sys
from functools import partial

from mmvid.data_preparation.file_list import read_label_map
from mmvid.data_preparation.split_cli import run_split_tool
from mmvid.data_preparation.ucf101_splits import read_ucf101_split

EPILOG = """examples:
  # data/ucf101/rawframes/<Class>/<video>/img_00001.jpg ...
  python tools/data/ucf101/build_split_lists.py \\
      data/ucf101/ucfTrainTestlist data/ucf101/rawframes \\
      --out-dir data/ucf101
  # data/ucf101/videos/<Class>/<video>.avi, split 1 only
  python tools/data/ucf101/build_split_lists.py \\
      data/ucf101/ucfTrainTestlist data/ucf101/videos \\
      --format videos --splits 1 --out-dir data/ucf101
"""
LABEL_MAP = osp.join(osp.dirname(osp.abspath(__file__)), 'label_map.txt')


def main(argv=None) -> int:
    read = partial(read_ucf101_split, classes=read_label_map(LABEL_MAP))
    return run_split_tool('ucf101', read, __doc__, EPILOG, argv)


if __name__ == '__main__':
    sys.exit(main())
