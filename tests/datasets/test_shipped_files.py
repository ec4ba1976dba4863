"""Label maps the configs name by their checkout path are found from any
working folder (the checkout here; the wheel's copy in test_packaging)."""
import os

import pytest

from mmvid.datasets import shipped_files
from mmvid.datasets.annotation import load_label_map

SHIPPED = {'tools/data/kinetics/label_map_k400.txt': (400, 'abseiling'),
           'tools/data/hmdb51/label_map.txt': (51, 'brush_hair'),
           'tools/data/ucf101/label_map.txt': (101, 'ApplyEyeMakeup')}


@pytest.mark.parametrize('path', list(SHIPPED))
def test_shipped_label_maps_load_from_another_folder(path, tmp_path,
                                                     monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert not os.path.exists(path)
    names = load_label_map(path)
    assert (len(names), names[0]) == SHIPPED[path]


def test_lookup_order_and_what_is_left_alone(tmp_path, monkeypatch):
    """A file in the working folder wins; absolute paths and URLs are
    returned as given; a name found nowhere stays as given, so the reader
    reports it (naming it)."""
    monkeypatch.chdir(tmp_path)
    local = tmp_path / 'tools' / 'data' / 'hmdb51' / 'label_map.txt'
    local.parent.mkdir(parents=True)
    local.write_text('a\nb\n')
    assert shipped_files.find_shipped_file(
        'tools/data/hmdb51/label_map.txt') == 'tools/data/hmdb51/label_map.txt'
    assert load_label_map('tools/data/hmdb51/label_map.txt') == ('a', 'b')
    for given in ('/no/such/label_map.txt', 's3://bucket/label_map.txt',
                  'tools/data/none/label_map.txt'):
        assert shipped_files.find_shipped_file(given) == given
    with pytest.raises(FileNotFoundError,
                       match='tools/data/none/label_map.txt'):
        load_label_map('tools/data/none/label_map.txt')
    assert shipped_files.shipped_file_dirs()[0].endswith(
        os.path.join('mmvid', '.mim'))
