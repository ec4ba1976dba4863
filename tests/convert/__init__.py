"""Tests of mmvid.utils.checkpoint.convert and tools/convert."""
