"""Evaluation preprocessing: single centre crop and the papers' 10-crop.

Single crop: resize the shorter side to image_size / crop_ratio and take the central
image_size square, done as "crop the central crop_ratio * shorter side, then resize" so that JPEG
bytes are decoded only inside the crop. keras_classics.export reuses `eval_preprocess` inside the
serving graph, so it is a plain function of one image without dataset state.

10-crop (AlexNet section 4.1, ResNet section 3.4 "standard 10-crop testing"): the shorter side
resized to image_size / crop_ratio, the four corner crops and the centre crop, and their
horizontal flips, in torchvision's TenCrop order: top-left, top-right, bottom-left,
bottom-right, centre, then the same five flipped.
"""

import tensorflow as tf

from keras_classics.data import decoders
from keras_classics.data.train_preprocessing import center_window
from keras_classics.layers.normalization import finish
from keras_classics.records.input_config import input_config


def center_crop(image, image_size, crop_ratio, interpolation="bilinear"):
    """Encoded bytes or uint8 [H, W, 3] -> float32 [image_size, image_size, 3] in [0, 255]."""
    window = center_window(decoders.image_shape(image), crop_ratio)
    crop = decoders.decode_crop(image, window)
    return tf.image.resize(crop, [image_size, image_size], method=interpolation)


def eval_preprocess(image, config, image_size=None, crop_ratio=None, normalize=True):
    """One decoded uint8 [H, W, 3] image -> the model's float32 [S, S, 3] input (with
    normalize=False, the crop's uint8 pixels, for a model that normalises on its device).

    Args:
      image: uint8 tensor [H, W, 3] (or encoded bytes; see eval_preprocess_jpeg).
      config: the model's InputConfig (or its ModelSpec): size, crop ratio, interpolation
        and preprocessing mode.
      image_size, crop_ratio: in place of the config's (crop 1.0 = the whole shorter side).
    """
    config = input_config(config, image_size, crop_ratio)
    image = tf.convert_to_tensor(image)
    if image.dtype not in (tf.uint8, tf.string):
        raise TypeError(
            f"image has dtype {image.dtype.name}; accepted: uint8 [H, W, 3] pixels "
            "or encoded image bytes (tf.string)."
        )
    x = center_crop(image, config.size, config.crop_ratio, config.interpolation)
    return finish(x, config.mode, normalize)


def eval_preprocess_jpeg(data, config, image_size=None, crop_ratio=None):
    """Encoded image bytes (JPEG decoded only inside the crop; PNG/GIF/BMP decoded whole) ->
    the model's float32 [S, S, 3] input."""
    data = tf.convert_to_tensor(data, tf.string)
    return eval_preprocess(data, config, image_size, crop_ratio)


def ten_crop(image, image_size, crop_ratio, interpolation="bilinear"):
    """Encoded bytes or uint8 [H, W, 3] -> float32 [10, S, S, 3] in [0, 255] (module doc)."""
    if image.dtype == tf.string:
        image = decoders.decode_image(image)
    h, w = tf.shape(image)[0], tf.shape(image)[1]
    short = tf.cast(tf.round(image_size / crop_ratio), tf.int32)
    scale = tf.cast(short, tf.float32) / tf.cast(tf.minimum(h, w), tf.float32)
    new_h = tf.maximum(tf.cast(tf.round(tf.cast(h, tf.float32) * scale), tf.int32), short)
    new_w = tf.maximum(tf.cast(tf.round(tf.cast(w, tf.float32) * scale), tf.int32), short)
    x = tf.image.resize(image, [new_h, new_w], method=interpolation)
    s = image_size
    corners = [
        (0, 0),
        (0, new_w - s),
        (new_h - s, 0),
        (new_h - s, new_w - s),
        ((new_h - s) // 2, (new_w - s) // 2),
    ]
    crops = tf.stack([x[y : y + s, c : c + s] for y, c in corners])
    crops = tf.concat([crops, tf.reverse(crops, axis=[2])], axis=0)
    crops.set_shape([10, s, s, 3])
    return crops


def ten_crop_preprocess(image, config, image_size=None, crop_ratio=None, normalize=True):
    """Encoded bytes or uint8 [H, W, 3] -> the model's float32 [10, S, S, 3] inputs (uint8
    pixels with normalize=False)."""
    config = input_config(config, image_size, crop_ratio)
    crops = ten_crop(
        tf.convert_to_tensor(image), config.size, config.crop_ratio, config.interpolation
    )
    return finish(crops, config.mode, normalize)


def ten_crop_predict(model, dataset):
    """Averaged predictions of a 10-crop dataset (get_dataset(..., ten_crop=True)).

    Returns (predictions [N, classes] averaged over the 10 crops, labels [N]) as NumPy.
    """
    import numpy as np

    preds, labels = [], []
    for images, y in dataset:
        b = tf.shape(images)[0]
        flat = tf.reshape(images, tf.concat([[-1], tf.shape(images)[2:]], 0))
        p = tf.convert_to_tensor(model(flat, training=False))
        preds.append(tf.reduce_mean(tf.reshape(p, [b, 10, -1]), axis=1).numpy())
        labels.append(y.numpy())
    return np.concatenate(preds), np.concatenate(labels)
