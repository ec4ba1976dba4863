"""Checks of transform constructor arguments."""
from typing import Any

import numpy as np


def check_int_arg(name: str, value: int, minimum: int = 0) -> int:
    """Return ``value`` if it is an ``int`` (not a bool) >= ``minimum``.

    Raises:
        TypeError: ``value`` is not an int.
        ValueError: ``value`` < ``minimum``.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(
            f'{name} must be an int, got {type(value).__name__} {value!r}')
    if value < minimum:
        raise ValueError(f'{name} must be >= {minimum}, got {value}')
    return int(value)


def check_choice(name: str, value: Any, choices: tuple) -> Any:
    """``value`` if it is one of ``choices``, else ``ValueError``:
    ``"NAME must be one of CHOICES, got VALUE"``."""
    if value not in choices:
        raise ValueError(f'{name} must be one of {choices}, got {value!r}')
    return value
