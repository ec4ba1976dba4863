"""Backbone features of a list of videos: ``python tools/misc/extract_features.py CONFIG CKPT VIDEO_LIST OUT_DIR``.

The code is :mod:`mmvid.cli.extract_features`; see docs/features.md.
``python {this file} --help`` lists the flags and examples.
"""
from mmvid.cli.extract_features import run

if __name__ == '__main__':
    run()
