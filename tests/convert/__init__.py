"""Tests of mmvid.convert and tools/convert."""
