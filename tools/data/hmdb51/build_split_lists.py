"""Write HMDB-51's official split lists (splits 1-3, videos or rawframes)
from ``testTrainMulti_7030_splits``: ``hmdb51_{train,val}_split_<N>_
<format>.txt``, labels from ``tools/data/hmdb51/label_map.txt``.
Library: ``mmvid.data_preparation.hmdb51_splits``.
"""
import os.path as osp
import sys

from mmvid.data_preparation.split_cli import run_split_tool

LABEL_MAP = osp.join(osp.dirname(osp.abspath(__file__)), 'label_map.txt')

if __name__ == '__main__':
    sys.exit(run_split_tool('hmdb51', LABEL_MAP, __doc__))
