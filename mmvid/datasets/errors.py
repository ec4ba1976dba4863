"""Errors raised while loading samples."""


class BadSampleError(RuntimeError):
    """One sample's data cannot be read: a missing, empty, truncated or
    non-video file, a missing frame, an undecodable frame.

    The message names the file, the frame index where it matters and the
    backend. Datasets with ``on_error='skip'`` skip such samples (with a
    warning and a count); every other exception propagates.
    """
