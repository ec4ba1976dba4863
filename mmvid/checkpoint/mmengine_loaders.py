"""mmengine's checkpoint loading routed through :func:`load_file`.

mmengine 0.10 reads checkpoints for ``Runner.resume`` (``--resume``,
``--resume auto``), ``Runner.load_checkpoint`` (``load_from``,
``--load-from``, ``--test-best``) and ``mmengine.runner.load_checkpoint``
with a bare ``torch.load(filename)``: safe only while torch's default
``weights_only=True`` holds, which ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1``
turns off. :func:`register_mmengine_loaders` replaces its local-file loader
with :func:`load_file` (always ``weights_only=True`` and mmvid's
allow-list), and its remote schemes (``http://``, ``s3://`` ...) with a
refusal: mmvid never downloads weights, and those loaders unpickle without
``weights_only`` too.
"""
from typing import Any

from mmengine.runner.checkpoint import CheckpointLoader

from .errors import CheckpointError
from .safe_load import load_file


def load_local_checkpoint(filename: str, map_location: Any = None) -> Any:
    """mmengine's local loader, safe: :func:`load_file`."""
    return load_file(filename, map_location=map_location)


def refuse_remote_checkpoint(filename: str, map_location: Any = None,
                             **kwargs) -> Any:
    """mmengine's loaders for URLs and object stores: refused."""
    raise CheckpointError(
        f'{filename}: mmvid reads checkpoints from local files only (it '
        'never downloads); download the file and pass its path')


def register_mmengine_loaders() -> None:
    """Make every mmengine checkpoint load go through :func:`load_file`
    (local paths) or :func:`refuse_remote_checkpoint` (any other scheme).
    Calling it again changes nothing."""
    for prefix in list(CheckpointLoader._schemes):
        loader = load_local_checkpoint if prefix == '' else \
            refuse_remote_checkpoint
        CheckpointLoader.register_scheme(prefix, loader, force=True)
