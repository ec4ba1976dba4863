"""Write UCF-101's official split lists (splits 1-3, videos or rawframes)
from ``ucfTrainTestlist``: ``ucf101_{train,val}_split_<N>_<format>.txt``,
0-based labels from ``classInd.txt`` (the order of
``tools/data/ucf101/label_map.txt``); checks that no group ``gXX`` is in both
train and test. Library: ``mmvid.data_preparation.ucf101_splits``.
"""
import os.path as osp
import sys

from mmvid.data_preparation.split_cli import run_split_tool

LABEL_MAP = osp.join(osp.dirname(osp.abspath(__file__)), 'label_map.txt')

if __name__ == '__main__':
    sys.exit(run_split_tool('ucf101', LABEL_MAP, __doc__))
