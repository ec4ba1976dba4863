"""Write HMDB-51's official split lists (splits 1-3, videos or rawframes)
from ``testTrainMulti_7030_splits``: ``hmdb51_{train,val}_split_<N>_
<format>.txt``, labels from ``tools/data/hmdb51/label_map.txt``.
Library: ``mmvid.data_preparation.hmdb51_splits``.
"""
import os.path as osp
import sys
from functools import partial

from mmvid.data_preparation.file_list import read_label_map
from mmvid.data_preparation.hmdb51_splits import read_hmdb51_split
from mmvid.data_preparation.split_cli import run_split_tool

EPILOG = """examples:
  # data/hmdb51/rawframes/<class>/<video>/img_00001.jpg ...
  python tools/data/hmdb51/build_split_lists.py \\
      data/hmdb51/testTrainMulti_7030_splits data/hmdb51/rawframes \\
      --out-dir data/hmdb51
  # data/hmdb51/videos/<class>/<video>.avi, split 1 only
  python tools/data/hmdb51/build_split_lists.py \\
      data/hmdb51/testTrainMulti_7030_splits data/hmdb51/videos \\
      --format videos --splits 1 --out-dir data/hmdb51
"""
LABEL_MAP = osp.join(osp.dirname(osp.abspath(__file__)), 'label_map.txt')


def main(argv=None) -> int:
    read = partial(read_hmdb51_split, classes=read_label_map(LABEL_MAP))
    return run_split_tool('hmdb51', read, __doc__, EPILOG, argv)


if __name__ == '__main__':
    sys.exit(main())
