"""mmvid: video action recognition centred on I3D, on mmengine and mmcv."""
from .version import __version__, version_info

__all__ = ['__version__', 'version_info']
