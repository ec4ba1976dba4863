"""Autocast precisions: ``'bf16'`` / ``'fp16'`` names and the context that
applies them."""
import contextlib
from typing import Iterator, Optional

import torch

AMP_DTYPES = {'bf16': torch.bfloat16, 'fp16': torch.float16}


@contextlib.contextmanager
def autocast(device, amp: Optional[str]) -> Iterator[None]:
    """``torch.autocast`` to ``amp``'s dtype on ``device`` (a device or its
    type, ``'cpu'`` / ``'cuda'``); nothing for None."""
    if amp is None:
        yield
        return
    with torch.autocast(torch.device(device).type, dtype=AMP_DTYPES[amp]):
        yield
