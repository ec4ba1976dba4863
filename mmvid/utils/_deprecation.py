"""Old import paths kept for one release after the packages moved."""
import warnings


def warn_moved(old: str, new: str) -> None:
    """Warn that module ``old`` is now ``new`` (stacklevel: the importer)."""
    warnings.warn(f'{old} moved to {new}; the old path will be removed in '
                  'the next release', DeprecationWarning, stacklevel=3)
