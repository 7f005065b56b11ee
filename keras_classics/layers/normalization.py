"""The spec's input normalisation as one fused multiply-add, fast on CPU.

`preprocess_input` (below; its constants: keras_classics/records/input_config.py)
computes (x * scale - mean) / std with per-channel [3] constants: three passes over the float image,
each an Eigen broadcast over an innermost dimension of 3, which is slow on CPU (about 2.6 ms
of a 224x224 image on the benchmark machine, more than decode-and-crop). `normalize` gives the
same values (float32 rounding apart) with one multiply and one add: x * (scale / std) +
(-mean / std), the [3] constants tiled along the image width so that the broadcast is a row
broadcast of [rows, W * 3] (about 0.7 ms; docs/data.md). The BGR modes reverse the channels
first. It runs per image inside the map: normalising the batch afterwards measured no faster
here, since the batched multiply allocates a fresh batch-sized float buffer.
"""

import numpy as np
import tensorflow as tf

from keras_classics.records.input_config import MODES
from keras_classics.records.registry import resolve_mode


def affine(mode):
    """(order, multiplier [3], offset [3]) with preprocess_input(x) = x[order] * a + b."""
    order, scale, mean, std = MODES[resolve_mode(mode)]
    std = np.asarray(std, np.float64)
    a = (scale / std).astype(np.float32)
    b = (-np.asarray(mean, np.float64) / std).astype(np.float32)
    return order, a, b


def pixels(x):
    """Float images in [0, 255] -> uint8, rounded to the nearest level (saturating: a bicubic
    resize overshoots). What the input pipeline hands over unless normalize=True: torchvision's
    PIL transforms also resize and colour-jitter to uint8 images before ToTensor."""
    return tf.saturate_cast(tf.round(x), tf.uint8)


def finish(x, mode, normalize_it):
    """The last step of a preprocessing function: `normalize(x, mode)` or `pixels(x)`."""
    return normalize(x, mode) if normalize_it else pixels(x)


def normalize(x, mode):
    """RGB [0, 255] images (..., H, W, 3), any dtype -> float32 normalised like
    preprocess_input(x, mode), in one fused multiply-add."""
    order, a, b = affine(mode)
    x = tf.convert_to_tensor(x)
    if x.shape.rank is not None and (x.shape.rank < 2 or x.shape[-1] not in (None, 3)):
        raise ValueError(f"x has shape {x.shape}; accepted: RGB images (..., H, W, 3).")
    x = tf.cast(x, tf.float32)
    if order == "bgr":
        x = tf.reverse(x, [-1])
    shape = tf.shape(x)
    width = shape[-2]
    if np.all(a == a[0]) and np.all(b == b[0]):  # one scalar fma ("tf", "raw")
        return x * a[0] + b[0] if (a[0], b[0]) != (1, 0) else x
    rows = tf.reshape(x, tf.stack([-1, width * 3]))
    out = rows * tf.tile(tf.constant(a), [width]) + tf.tile(tf.constant(b), [width])
    return tf.reshape(out, shape)


def preprocess_input(x, mode):
    """Normalises RGB [0, 255] images `x` (..., 3) for a model.

    Args:
      x: NumPy array or tf.Tensor, channels last; integers are converted to float32.
      mode: "torch", "caffe", "tf", "raw", or a registry name such as "resnet50".
    Returns:
      float32 array of the same type as `x` (NumPy in, NumPy out).
    """
    order, scale, mean, std = MODES[resolve_mode(mode)]
    if isinstance(x, (tf.Tensor, tf.Variable)):
        x = tf.cast(x, tf.float32)
    else:
        x = np.asarray(x, dtype=np.float32)
    if x.shape[-1] != 3:
        raise ValueError(
            f"x has {x.shape[-1]} channels (shape {tuple(x.shape)}); accepted: "
            "RGB images with 3 channels last."
        )
    if order == "bgr":
        x = x[..., ::-1]
    return (x * scale - np.float32(mean)) / np.float32(std)
