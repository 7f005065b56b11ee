"""Input normalisation per convention: the single place the mean/std constants live.

Inputs are RGB images with values in [0, 255], channels last. The data pipeline, the export
signatures and predict all call `preprocess_input` with the mode of the model's spec.
"""

import numpy as np
import tensorflow as tf

# mode -> (channel order, scale applied first, mean subtracted after scaling, std divided)
MODES = {
    # torchvision: [0, 1] then ImageNet mean/std (RGB).
    "torch": ("rgb", 1 / 255.0, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
    # Caffe / keras.applications VGG & ResNet: BGR, mean pixel subtracted, no scaling.
    "caffe": ("bgr", 1.0, (103.939, 116.779, 123.68), (1.0, 1.0, 1.0)),
    # TF-slim Inception: [-1, 1].
    "tf": ("rgb", 1 / 127.5, (1.0, 1.0, 1.0), (1.0, 1.0, 1.0)),
    # Pixels as they are (for models trained on raw [0, 255] inputs).
    "raw": ("rgb", 1.0, (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)),
}


def resolve_mode(mode):
    """A mode name, or a registry model name standing for its spec's mode."""
    if mode in MODES:
        return mode
    from keras_classics.registry import get_spec, list_models
    if mode in list_models():
        return get_spec(mode).preprocessing
    raise ValueError(f"mode={mode!r} is invalid; accepted: {tuple(MODES)} or a registered "
                     "model name (its spec's mode).")


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
        raise ValueError(f"x has {x.shape[-1]} channels (shape {tuple(x.shape)}); accepted: "
                         "RGB images with 3 channels last.")
    if order == "bgr":
        x = x[..., ::-1]
    return (x * scale - np.float32(mean)) / np.float32(std)
