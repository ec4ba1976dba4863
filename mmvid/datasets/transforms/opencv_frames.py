"""Which frames OpenCV handles exactly: the dtypes it keeps (``cv2.flip``
turns int64 into int32, for one) and up to 4 channels. Transforms use
OpenCV's SIMD routines for these and numpy for the rest."""
import numpy as np

CV_DTYPES = tuple(np.dtype(t) for t in (np.uint8, np.int8, np.uint16,
                                         np.int16, np.int32, np.float32,
                                         np.float64))
CV_MAX_CHANNELS = 4


def opencv_takes(img: np.ndarray) -> bool:
    """Whether OpenCV processes the ``[H, W]`` / ``[H, W, C]`` frame ``img``
    without changing its dtype or channel count."""
    channels = img.shape[2] if img.ndim == 3 else 1
    return img.dtype in CV_DTYPES and channels <= CV_MAX_CHANNELS
