"""The error type and message helpers shared by checkpoint loading."""
from typing import Sequence

# How many keys or lines an error message or log lists before "... and N more".
MAX_LISTED = 10


class CheckpointError(RuntimeError):
    """A checkpoint file is unsafe, corrupt or does not fit the model."""


def abbreviate(items: Sequence[str], limit: int = MAX_LISTED) -> str:
    """``'a, b, c ... and 7 more'``."""
    text = ', '.join(items[:limit])
    if len(items) > limit:
        text += f' ... and {len(items) - limit} more'
    return text

