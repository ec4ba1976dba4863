"""Fetching published checkpoints: hash checks, nothing left behind on a
mismatch, existing files verified, zoo names; file:// URLs only (no
network)."""
import hashlib
import io
import os
import os.path as osp
import subprocess
import sys

import pytest

from mmvid.checkpoint.download import (HashMismatchError, check_hash_arg,
                                       download_checkpoint, file_name_of,
                                       hash_from_name, sha256_of,
                                       zoo_weights)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools', 'misc', 'download_checkpoint.py')
CONTENT = bytes(range(256)) * 5000  # 1.28 MB: two read chunks
SHA = hashlib.sha256(CONTENT).hexdigest()


def published(tmp_path, name):
    """A 'published' file at a file:// URL."""
    src = tmp_path / 'server' / name
    src.parent.mkdir(exist_ok=True)
    src.write_bytes(CONTENT)
    return src.as_uri()


def listing(folder):
    return sorted(os.listdir(folder))


def test_full_hash_writes_the_file(tmp_path):
    url = published(tmp_path, 'model.pth')
    out = tmp_path / 'ckpt'
    stream = io.StringIO()
    fetched = download_checkpoint(url, str(out), SHA.upper(), stream)
    assert fetched == (str(out / 'model.pth'), SHA, SHA, True)
    assert (out / 'model.pth').read_bytes() == CONTENT
    assert listing(out) == ['model.pth']
    assert stream.getvalue().endswith('\rmodel.pth: 1.2 / 1.2 MiB (100%)\n')
    assert sha256_of(str(out / 'model.pth')) == SHA


def test_wrong_hash_leaves_nothing(tmp_path):
    url = published(tmp_path, 'model.pth')
    out = tmp_path / 'ckpt'
    with pytest.raises(HashMismatchError) as info:
        download_checkpoint(url, str(out), 'deadbeef', None)
    assert str(info.value) == (
        f'{url}: download removed, nothing written: sha256 {SHA} does not '
        f'match the expected deadbeef ({out / "model.pth"})')
    assert listing(out) == []  # neither the file nor a temporary one


def test_hash_prefix_from_the_file_name(tmp_path):
    good = f'i3d_r50_20200614-{SHA[:8]}.pth'
    fetched = download_checkpoint(published(tmp_path, good),
                                  str(tmp_path / 'a'), progress=None)
    assert fetched.expected == SHA[:8] and fetched.downloaded
    bad = 'i3d_r50_20200614-c25ef9a4.pth'
    with pytest.raises(HashMismatchError, match='expected c25ef9a4'):
        download_checkpoint(published(tmp_path, bad), str(tmp_path / 'b'),
                            progress=None)
    assert listing(tmp_path / 'b') == []
    # no suffix (FAIR files): no check, the sha256 is still reported
    fetched = download_checkpoint(published(tmp_path, 'I3D_8x8_R50.pkl'),
                                  str(tmp_path / 'c'), progress=None)
    assert (fetched.expected, fetched.sha256) == (None, SHA)


def test_existing_file_is_verified_never_overwritten(tmp_path):
    name = f'm-{SHA[:8]}.pth'
    url = published(tmp_path, name)
    out = tmp_path / 'ckpt'
    download_checkpoint(url, str(out), progress=None)
    os.remove(tmp_path / 'server' / name)  # a second fetch would fail
    fetched = download_checkpoint(url, str(out), progress=None)
    assert fetched == (str(out / name), SHA, SHA[:8], False)
    (out / name).write_bytes(b'corrupt')
    with pytest.raises(HashMismatchError) as info:
        download_checkpoint(url, str(out), progress=None)
    assert str(info.value).startswith(
        f'existing file {out / name} (delete it to download again): sha256 '
        f'{hashlib.sha256(b"corrupt").hexdigest()} does not match the '
        f'expected {SHA[:8]}')
    assert (out / name).read_bytes() == b'corrupt'


def test_failed_download_leaves_nothing(tmp_path):
    out = tmp_path / 'ckpt'
    with pytest.raises(OSError):
        download_checkpoint((tmp_path / 'absent.pth').as_uri(), str(out),
                            progress=None)
    assert listing(out) == []


def test_names_and_hash_arguments():
    assert hash_from_name('x_20200801-7d9f44de.pth') == '7d9f44de'
    assert hash_from_name('resnet50-0676ba61.pth') == '0676ba61'
    assert hash_from_name('i3d_baseline_32x2_IN_pretrain_400k.pkl') is None
    assert file_name_of('https://h/a/b%20c.pth?x=1') == 'b c.pth'
    with pytest.raises(ValueError, match='does not end with a file name'):
        file_name_of('https://h/a/')
    assert check_hash_arg('ABCDEF01') == 'abcdef01'
    for bad in ('abc', 'xyz12345', 'a' * 65):
        with pytest.raises(ValueError, match='must be 8 to 64 hex digits'):
            check_hash_arg(bad)


METAFILE = """Models:
- Name: mm
  Weights: {url}
  Hash: {prefix}
- Name: fair
  Weights: https://dl.fbaipublicfiles.com/x/I3D.pkl
  Hash: none published
- Name: lost
  Weights: 'unconfirmed: some_file.pth'
  Hash: none published
- Name: bare
- Name: numeric
  Weights: https://h/x.pth
  Hash: 12345678
"""


def test_zoo_lookup(tmp_path):
    meta = tmp_path / 'metafile.yml'
    meta.write_text(METAFILE.format(url='https://h/m.pth', prefix='c25ef9a4'))
    assert zoo_weights(str(meta), 'mm') == ('https://h/m.pth', 'c25ef9a4')
    assert zoo_weights(str(meta), 'fair') == (
        'https://dl.fbaipublicfiles.com/x/I3D.pkl', None)
    with pytest.raises(ValueError, match=r'lost: no URL confirmed for its '
                       r'weights \(some_file.pth\)'):
        zoo_weights(str(meta), 'lost')
    with pytest.raises(ValueError, match='bare has no published weights'):
        zoo_weights(str(meta), 'bare')
    with pytest.raises(ValueError, match='Hash must be a quoted string'):
        zoo_weights(str(meta), 'numeric')
    with pytest.raises(KeyError, match="no model 'nope'; its models: bare, "
                       'fair, lost, mm, numeric'):
        zoo_weights(str(meta), 'nope')


def run_tool(*args):
    return subprocess.run(
        [sys.executable, TOOL] + [str(a) for a in args], capture_output=True,
        text=True, timeout=120, env={**os.environ, 'PYTHONPATH': REPO})


def test_tool_by_zoo_name(tmp_path):
    url = published(tmp_path, 'zoo_model.pth')
    meta = tmp_path / 'metafile.yml'
    meta.write_text(METAFILE.format(url=url, prefix=SHA[:8]))
    out = tmp_path / 'ckpt'
    done = run_tool('mm', '--metafile', meta, '--out-dir', out)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (f'{out / "zoo_model.pth"}: downloaded; sha256 '
                           f'{SHA} (matches {SHA[:8]})\n')
    assert (out / 'zoo_model.pth').read_bytes() == CONTENT
    done = run_tool(url, '--out-dir', out, '--quiet')
    assert done.stdout.startswith(f'{out / "zoo_model.pth"}: already there, '
                                  'verified')
    meta.write_text(METAFILE.format(url=url, prefix='deadbeef'))
    done = run_tool('mm', '--metafile', meta, '--out-dir', tmp_path / 'x')
    assert done.returncode == 1
    assert f'sha256 {SHA} does not match the expected deadbeef' in \
        done.stderr
    assert listing(tmp_path / 'x') == []
    done = run_tool('nope', '--metafile', meta)
    assert done.returncode == 1
    assert done.stderr.startswith(f"error: {meta} has no model 'nope'")
