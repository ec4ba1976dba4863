"""Evaluation: metric functions and the metrics mmengine's Runner uses."""
from .functional import *  # noqa: F401,F403
from .metrics import *  # noqa: F401,F403
