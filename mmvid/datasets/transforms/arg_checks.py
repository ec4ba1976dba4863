"""Checks of transform constructor arguments, and the mmaction2 1.x
argument names accepted as aliases (:func:`accepts_aliases`)."""
import functools
import inspect
from typing import Any, Callable

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


def accepts_aliases(**aliases: str) -> Callable[[type], type]:
    """Class decorator: the constructor also takes each key of ``aliases``
    (an mmaction2 1.x argument name) for the mmvid argument it names, e.g.
    ``@accepts_aliases(clip_interval='frame_interval')``.

    The alias is renamed before ``__init__`` runs, so both spellings build
    the same transform; giving both (by keyword, or the mmvid one by
    position) raises ``TypeError`` naming the two. The class gets
    ``arg_aliases`` (``{alias: name}``) for docs and tests.
    """

    def decorate(cls: type) -> type:
        init = cls.__init__
        names = list(inspect.signature(init).parameters)[1:]
        for alias, name in aliases.items():
            if name not in names or alias in names:
                raise TypeError(f'{cls.__name__}: alias {alias!r} must name '
                                f'an argument of __init__ {names}, got '
                                f'{name!r}')

        @functools.wraps(init)
        def __init__(self, *args, **kwargs):
            for alias, name in aliases.items():
                if alias not in kwargs:
                    continue
                if name in kwargs or names.index(name) < len(args):
                    raise TypeError(
                        f'{cls.__name__} got both {name!r} and {alias!r} '
                        f"(mmaction2 1.x's name for {name!r}); give one")
                kwargs[name] = kwargs.pop(alias)
            init(self, *args, **kwargs)

        cls.__init__ = __init__
        cls.arg_aliases = dict(aliases)
        return cls

    return decorate
