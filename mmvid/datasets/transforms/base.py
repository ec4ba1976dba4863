"""Base of mmvid's transforms: declared, checked key contracts and a
per-sample random generator.

Every transform lists the ``results`` keys it reads (``required_keys``) and
the keys it adds or overwrites (``added_keys``). ``__call__`` checks the
required keys before running, so a pipeline in the wrong order fails with a
message naming the transform and the missing key, and the tests check that
every added key is really written.

Randomness: a dataset puts ``results['rng']``, a ``numpy.random.Generator``
seeded from (seed, epoch, index), into each sample, so augmentation is the
same whatever the number of loader workers. Transforms draw from
``sample_rng(results)``.

Frames given on their own (mmaction2 1.x style, a dict holding only
``imgs``): a transform that needs ``img_shape``, ``num_clips`` or
``clip_len`` first fills the missing ones from the frames
(:func:`infer_frame_keys`), so the geometric transforms and ``FormatShape``
run without a sampler or decoder before them.
"""
from typing import Optional, Tuple

import numpy as np
from mmcv.transforms import BaseTransform


def sample_rng(results: dict) -> np.random.Generator:
    """The sample's generator, or one seeded from numpy's global state when
    a transform runs outside a dataset (``np.random.seed`` makes it
    reproducible)."""
    rng = results.get('rng')
    if rng is None:
        rng = np.random.default_rng(np.random.randint(2**31))
        results['rng'] = rng
    return rng


FRAME_KEYS = ('img_shape', 'num_clips', 'clip_len')


def infer_frame_keys(results: dict) -> None:
    """Fill the frame keys a sample without a decoder lacks, from
    ``results['imgs']`` (a list of ``[H, W, C]`` frames or one
    ``[M, H, W, C]`` array), as mmaction2 1.x does for ``img_shape``:

    * ``img_shape = imgs[0].shape[:2]`` when missing;
    * ``num_clips = 1`` and ``clip_len = len(imgs)`` (the frames are one
      clip) when both are missing; one of them alone is left for the
      transform to report.

    Keys already present are kept; nothing happens without non-empty
    ``imgs`` (the transform then reports the missing keys).
    """
    imgs = results.get('imgs')
    if not isinstance(imgs, (list, tuple, np.ndarray)) or len(imgs) == 0 \
            or getattr(imgs[0], 'ndim', 0) < 2:
        return
    if 'img_shape' not in results:
        results['img_shape'] = tuple(int(v) for v in imgs[0].shape[:2])
    if 'num_clips' not in results and 'clip_len' not in results:
        results['num_clips'] = 1
        results['clip_len'] = len(imgs)


class VideoTransform(BaseTransform):
    """A transform with a checked key contract.

    Subclasses set ``required_keys`` and ``added_keys`` and implement
    ``transform(results) -> results``. A transform requiring one of
    ``FRAME_KEYS`` has the missing ones inferred from ``imgs`` first
    (:func:`infer_frame_keys`).
    """
    required_keys: Tuple[str, ...] = ()
    added_keys: Tuple[str, ...] = ()

    def __call__(self, results: dict) -> Optional[dict]:
        if any(key in FRAME_KEYS for key in self.required_keys):
            infer_frame_keys(results)
        missing = [key for key in self.required_keys if key not in results]
        if missing:
            raise KeyError(
                f'{type(self).__name__} needs {missing} in the sample '
                f'(has {sorted(k for k in results if k != "rng")}); check '
                'the order of the pipeline')
        return super().__call__(results)

    def __repr__(self) -> str:
        args = ', '.join(f'{k}={v!r}' for k, v in vars(self).items()
                         if not k.startswith('_'))
        return f'{type(self).__name__}({args})'
