"""Models: importing this package registers every model part in MODELS."""
from .backbones import *  # noqa: F401,F403
from .common import *  # noqa: F401,F403
from .data_preprocessors import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .recognizers import *  # noqa: F401,F403
