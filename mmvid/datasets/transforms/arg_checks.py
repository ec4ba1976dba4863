"""Checks of transform constructor arguments."""
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
