"""The files of a feature extraction: .npy names, atomic writes, complete
files, the manifest and its settings."""
import os

import numpy as np
import pytest

from mmvid.apis.feature_files import (check_settings, check_unique_files,
                                      feature_file, read_manifest,
                                      save_array, saved_shape,
                                      write_manifest)


@pytest.mark.parametrize('video, npy', [
    ('a/b/c.mp4', 'a/b/c.npy'), ('c.avi', 'c.npy'), ('./x/c.mkv', 'x/c.npy'),
    ('/data/k400/v.1.mp4', 'data/k400/v.1.npy'), ('noext', 'noext.npy')])
def test_feature_file_keeps_the_listed_layout(video, npy):
    assert feature_file(video) == npy


def test_a_path_leaving_the_folder_or_two_videos_sharing_a_file_refused():
    with pytest.raises(ValueError, match=r"'a/../../x.mp4': a listed video "
                       r"path may not contain '\.\.'"):
        feature_file('a/../../x.mp4')
    assert check_unique_files(['a.mp4', 'b/a.mp4'], 'l.txt') == [
        'a.npy', 'b/a.npy']
    with pytest.raises(ValueError, match=r"l.txt: 'a.mp4' and 'a.avi' would "
                       r'both write a.npy'):
        check_unique_files(['a.mp4', 'b.mp4', 'a.avi'], 'l.txt')


def test_save_array_writes_through_a_partial_file(tmp_path):
    path = str(tmp_path / 'sub' / 'v.npy')
    (tmp_path / 'sub').mkdir()
    (tmp_path / 'sub' / 'v.npy.partial').write_bytes(b'stale half file')
    save_array(path, np.arange(6, dtype=np.float32).reshape(2, 3))
    assert os.listdir(tmp_path / 'sub') == ['v.npy']  # partial replaced
    np.testing.assert_array_equal(np.load(path), np.arange(6).reshape(2, 3))
    assert saved_shape(path) == (2, 3)


def test_saved_shape_only_of_a_complete_float_array(tmp_path):
    path = str(tmp_path / 'v.npy')
    assert saved_shape(path) is None
    save_array(path, np.ones((4, 8), np.float32))
    data = open(path, 'rb').read()
    open(path, 'wb').write(data[:-5])  # truncated: its header says more
    assert saved_shape(path) is None
    open(path, 'wb').write(b'not an npy file')
    assert saved_shape(path) is None
    save_array(path, np.ones(3, np.int64))
    assert saved_shape(path) is None


def test_manifest_round_trip_and_settings_check(tmp_path):
    out = str(tmp_path / 'feats')
    assert read_manifest(out) is None
    check_settings(out, dict(views=3))  # nothing to compare with
    manifest = dict(config='c.py', checkpoint='w.pth', views=None,
                    average=False, videos=[])
    write_manifest(out, manifest)
    assert os.listdir(out) == ['manifest.json']
    assert read_manifest(out) == manifest
    check_settings(out, dict(manifest, videos=['other']))
    with pytest.raises(ValueError, match=r"feats/manifest.json: this folder "
                       r"holds features extracted with other settings "
                       r"\(views: None -> 30; average: False -> True\)"):
        check_settings(out, dict(manifest, views=30, average=True))
    (tmp_path / 'feats' / 'manifest.json').write_text('[1, 2]')
    with pytest.raises(ValueError, match='not a feature manifest'):
        read_manifest(out)
    (tmp_path / 'feats' / 'manifest.json').write_text('{"a": ')
    with pytest.raises(ValueError, match='not a feature manifest'):
        read_manifest(out)
