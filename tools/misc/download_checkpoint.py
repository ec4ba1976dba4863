"""Download a published checkpoint into checkpoints/, checked against its
sha256: a URL, or a zoo model name of configs/recognition/i3d/metafile.yml.

The file is written under a temporary name and renamed only after the hash
matched; a mismatch removes it and exits with status 1 naming both hashes.
The hash is --sha256 (full or a prefix of 8+ hex digits), else the
``-xxxxxxxx`` suffix of the file name (mmaction2, torchvision), else none
(the FAIR files publish none: the sha256 is printed so you can record it).
An existing file is verified, never overwritten. mmvid itself never
downloads: this is the one step that does.
Library: ``mmvid.checkpoint.download``.
"""
import argparse
import sys

from mmvid.checkpoint.download import (HashMismatchError, download_checkpoint,
                                       zoo_weights)
from mmvid.utils.config_files import find_config

METAFILE = 'configs/recognition/i3d/metafile.yml'
EPILOG = """examples:
  # a zoo model by name (URL and hash from the metafile)
  python tools/misc/download_checkpoint.py i3d_r50_video_32x2x1_100e_kinetics400_rgb
  # a URL; the hash prefix 0676ba61 comes from the file name
  python tools/misc/download_checkpoint.py \\
      https://download.pytorch.org/models/resnet50-0676ba61.pth
  # a FAIR file (no published hash), then convert it (tools/convert/)
  python tools/misc/download_checkpoint.py i3d_r50_8x8x1_196e_kinetics400_rgb_pyslowfast
  python tools/convert/caffe2_to_mmvid.py checkpoints/I3D_8x8_R50.pkl \\
      configs/recognition/i3d/i3d_r50_8x8x1_196e_kinetics400_rgb_pyslowfast.py \\
      checkpoints/i3d_r50_8x8x1_196e_kinetics400_rgb_pyslowfast.pth
"""


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('source', help='URL (http, https, file) or zoo model name')
    p.add_argument('--out-dir', default='checkpoints',
                   help='where the file goes (default: checkpoints)')
    p.add_argument('--sha256', help='expected sha256 or a prefix (8+ hex)')
    p.add_argument('--metafile', default=METAFILE,
                   help=f'zoo metafile for names (default: {METAFILE})')
    p.add_argument('--quiet', action='store_true', help='no progress line')
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    url, sha256 = args.source, args.sha256
    try:
        if '://' not in url:
            url, published = zoo_weights(find_config(args.metafile), url)
            sha256 = sha256 or published
        fetched = download_checkpoint(url, args.out_dir, sha256,
                                      None if args.quiet else sys.stderr)
    except (HashMismatchError, KeyError, ValueError, OSError) as e:
        message = e.args[0] if isinstance(e, KeyError) else e
        print(f'error: {message}', file=sys.stderr)
        return 1
    verb = 'downloaded' if fetched.downloaded else 'already there, verified'
    check = (f'matches {fetched.expected}' if fetched.expected else
             'no published hash to check')
    print(f'{fetched.path}: {verb}; sha256 {fetched.sha256} ({check})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
