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


class VideoTransform(BaseTransform):
    """A transform with a checked key contract.

    Subclasses set ``required_keys`` and ``added_keys`` and implement
    ``transform(results) -> results``.
    """
    required_keys: Tuple[str, ...] = ()
    added_keys: Tuple[str, ...] = ()

    def __call__(self, results: dict) -> Optional[dict]:
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
