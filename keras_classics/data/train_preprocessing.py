"""Training augmentation, one small function per step and one entry point, `train_preprocess`.

Every augmentation is a crop window sampled in the original image's pixels, then a resize to
the model's input size, a flip and an optional colour step. Sampling the window first and
cropping while decoding (decoders.decode_crop) gives the same pixels as resizing the whole image
and cropping afterwards, for a fraction of the decoding work (tensorflow/tpu
resnet_preprocessing.py does the same).

The augmentations are records in the family modules (an Augmentation of
keras_classics/records/augmentation.py: which window, which steps); this module holds the
operations and runs a record. The papers state their scales for 224-pixel crops (AlexNet:
shorter side 256; VGG: S in [256, 512]; ResNet: S in [256, 480]); at another input size the
scales grow with image_size / 224, so the crop keeps the same share of the image.
"""

import dataclasses
import functools
from collections.abc import Callable
from typing import Optional

import tensorflow as tf

from keras_classics.data import decoders
from keras_classics.layers.normalization import finish
from keras_classics.models import augmentations
from keras_classics.records.input_config import input_config

# AlexNet paper section 4.1: eigenvalues / eigenvectors of the 3x3 covariance of ImageNet RGB
# values scaled to [0, 1], as published with fb.resnet.torch (ResNet's "standard colour
# augmentation [21]" is the same).
PCA_EIGVAL = (0.2175, 0.0188, 0.0045)
PCA_EIGVEC = ((-0.5675, 0.7192, 0.4009), (-0.5808, -0.0045, -0.8140), (-0.5836, -0.6948, 0.4203))
PCA_ALPHA_STD = 0.1


def _seeds(seed, n):
    return tf.unstack(tf.random.experimental.stateless_split(seed, num=n))


# ---- crop windows: (shape [h, w], image_size, seed) -> int32 [y, x, h, w] ----


def inception_window(shape, image_size, seed, area=(0.08, 1.0), aspect=(3 / 4, 4 / 3)):
    """Szegedy et al. 2015 (GoogLeNet section 6): 8-100% of the area, aspect 3/4 to 4/3.

    When 10 tries find no such window the whole image is used (tf.image's fallback).
    """
    del image_size
    begin, size, _ = tf.image.stateless_sample_distorted_bounding_box(
        tf.concat([shape, [3]], 0),
        tf.constant([[[0.0, 0.0, 1.0, 1.0]]]),
        seed=seed,
        min_object_covered=0.0,
        aspect_ratio_range=aspect,
        area_range=area,
        max_attempts=10,
        use_image_if_no_bounding_boxes=True,
    )
    return tf.stack([begin[0], begin[1], size[0], size[1]])


def scale_window(shape, image_size, seed, scale_range, central_square=False):
    """Rescale so the shorter side is S ~ U[scale_range] (scaled by image_size / 224), then a
    random image_size square; as a window in the original pixels. AlexNet
    (`central_square`) first takes the central square of the rescaled image (section 2)."""
    s_seed, y_seed, x_seed = _seeds(seed, 3)
    lo, hi = (round(v * image_size / 224) for v in scale_range)
    s = tf.random.stateless_uniform([], s_seed, lo, hi + 1, dtype=tf.int32)
    h, w = shape[0], shape[1]
    short = tf.minimum(h, w)
    side = tf.cast(
        tf.round(tf.cast(short * image_size, tf.float32) / tf.cast(s, tf.float32)), tf.int32
    )
    side = tf.clip_by_value(side, 1, short)
    y0 = x0 = tf.constant(0)
    span_h, span_w = h, w
    if central_square:
        y0, x0 = (h - short) // 2, (w - short) // 2
        span_h = span_w = short
    y = y0 + tf.random.stateless_uniform([], y_seed, 0, span_h - side + 1, dtype=tf.int32)
    x = x0 + tf.random.stateless_uniform([], x_seed, 0, span_w - side + 1, dtype=tf.int32)
    return tf.stack([y, x, side, side])


def center_window(shape, crop_ratio):
    """The eval crop: the central square of side crop_ratio * shorter side (= resize the
    shorter side to size / crop_ratio and take the central size x size)."""
    h, w = shape[0], shape[1]
    side = tf.cast(tf.round(crop_ratio * tf.cast(tf.minimum(h, w), tf.float32)), tf.int32)
    side = tf.maximum(side, 1)
    return tf.stack([(h - side) // 2, (w - side) // 2, side, side])


# ---- steps on the resized float image [S, S, 3] in [0, 255] ----


def random_flip(image, seed):
    return tf.image.stateless_random_flip_left_right(image, seed)


def pca_lighting(image, seed, alpha_std=PCA_ALPHA_STD):
    """AlexNet section 4.1: add sum_i alpha_i * lambda_i * p_i, alpha_i ~ N(0, 0.1), to every
    pixel (in [0, 1] units, here times 255), then clip to [0, 255]."""
    alpha = tf.random.stateless_normal([3], seed, stddev=alpha_std)
    rgb = tf.linalg.matvec(tf.constant(PCA_EIGVEC), alpha * tf.constant(PCA_EIGVAL))
    return tf.clip_by_value(image + 255.0 * rgb, 0.0, 255.0)


def color_distortion(image, seed):
    """Photometric distortions (GoogLeNet section 6, after Howard 2013): brightness,
    saturation, hue and contrast in TF-slim inception_preprocessing's ranges, fixed order."""
    b, s, h, c = _seeds(seed, 4)
    x = image / 255.0
    x = tf.image.stateless_random_brightness(x, 32.0 / 255.0, b)
    x = tf.image.stateless_random_saturation(x, 0.5, 1.5, s)
    x = tf.image.stateless_random_hue(x, 0.2, h)
    x = tf.image.stateless_random_contrast(x, 0.5, 1.5, c)
    return tf.clip_by_value(x, 0.0, 1.0) * 255.0


# fb.resnet.torch's ColorJitter (datasets/imagenet.lua): brightness, contrast and saturation,
# each a blend with factor 1 + U[-0.4, 0.4].
JITTER = 0.4
_GREY = (0.299, 0.587, 0.114)  # its grayscale weights (datasets/transforms.lua)


def color_jitter_factors(seed):
    """The blend factors (brightness, contrast, saturation) of one image."""
    return 1.0 + tf.random.stateless_uniform([3], seed, -JITTER, JITTER)


def color_jitter(image, seed):
    """fb.resnet.torch's ColorJitter (brightness, contrast, saturation 0.4), as DenseNet trains
    (Huang et al. 2017, section 4.1, with fb.resnet.torch's augmentation): each a blend
    a * img + (1 - a) * other with black, the grey image's mean or the grey image.

    fb.resnet.torch applies the three in a random order; they commute (each is linear, and the
    grey of a blend with grey is the grey: the weights sum to 1), so one order gives the same
    pixels (tests/data/test_preprocessing.py). The torch code leaves values outside [0, 1];
    here they are clipped to [0, 255] once at the end, as the other colour steps do.
    """
    brightness, contrast, saturation = tf.unstack(color_jitter_factors(seed))
    x = brightness * image
    x = contrast * x + (1.0 - contrast) * tf.reduce_mean(_grey(x))
    x = saturation * x + (1.0 - saturation) * _grey(x)
    return tf.clip_by_value(x, 0.0, 255.0)


def _grey(image):
    return tf.tensordot(image, tf.constant(_GREY), 1)[..., None]


def pad_and_crop(image, seed):
    """Zero-pad by 1/8 of the side and take a random crop of the original size (the CIFAR
    recipe of the ResNet paper, section 4.2), for small whole-object images."""
    size = tf.shape(image)[0]
    pad = size // 8
    padded = tf.pad(image, [[pad, pad], [pad, pad], [0, 0]])
    return tf.image.stateless_random_crop(padded, tf.shape(image), seed)


def hls_shift(image, offsets):
    """Adds (hue, saturation, lightness) `offsets` in OpenCV's 8-bit HLS units (hue in degrees
    / 2, 0-180; saturation and lightness 0-255) to every pixel of an RGB image in [0, 255],
    clipping each to its range, and returns the RGB image.

    The HLS conversions are OpenCV's (and Python colorsys'): L = (max + min) / 2, S = chroma
    / (1 - |2L - 1|), H the HSV hue; back with H, S, L -> L - a * clip(min(k - 3, 9 - k), -1,
    1), k = (n + H / 30) mod 12 for n = 0, 8, 4 (R, G, B), a = S * min(L, 1 - L). MXNet works
    on uint8 HLS pixels; here they stay float (no rounding to 8 bits).
    """
    dh, ds, dl = tf.unstack(tf.cast(offsets, tf.float32))
    x = image / 255.0
    hue = tf.image.rgb_to_hsv(x)[..., 0] * 180.0
    high, low = tf.reduce_max(x, -1), tf.reduce_min(x, -1)
    lightness = (high + low) / 2.0
    saturation = tf.math.divide_no_nan(high - low, 1.0 - tf.abs(2.0 * lightness - 1.0))
    hue = tf.clip_by_value(hue + dh, 0.0, 180.0)
    saturation = tf.clip_by_value(saturation + ds / 255.0, 0.0, 1.0)
    lightness = tf.clip_by_value(lightness + dl / 255.0, 0.0, 1.0)
    a = saturation * tf.minimum(lightness, 1.0 - lightness)
    k = tf.math.floormod(tf.constant([0.0, 8.0, 4.0]) + hue[..., None] / 15.0, 12.0)
    rgb = lightness[..., None] - a[..., None] * tf.clip_by_value(
        tf.minimum(k - 3.0, 9.0 - k), -1.0, 1.0
    )
    return tf.clip_by_value(rgb, 0.0, 1.0) * 255.0


def hsl_offsets(seed, limits):
    """One (hue, saturation, lightness) offset per image, each int(u * 2 * limit - limit) for u ~
    U[0, 1): MXNet's ImageRecordIter random_h, random_s, random_l (src/io/image_aug_default.cc;
    C++'s int() truncates toward zero, as tf.cast does)."""
    limits = tf.constant(limits, tf.float32)
    return tf.cast(tf.random.stateless_uniform([3], seed) * 2.0 * limits - limits, tf.int32)


def hsl_jitter(image, seed, limits):
    """The colour augmentation DPN's and IGC's MXNet releases train with (random_h/s/l; SERIES
    figures in their family modules): one HLS offset per image (`hsl_offsets`) added to every
    pixel (`hls_shift`)."""
    return hls_shift(image, hsl_offsets(seed, limits))


@dataclasses.dataclass(frozen=True)
class Steps:
    """An Augmentation record (keras_classics/records/augmentation.py) as operations."""

    window: Optional[Callable]  # (shape, image_size, seed) -> window; None: the eval crop
    flip: bool = True
    after_resize: tuple = ()  # (image, seed) -> image, in order


# The operation of each step name a record may give (records.augmentation.STEPS).
STEPS = {
    "pca_lighting": pca_lighting,
    "color_distortion": color_distortion,
    "pad_and_crop": pad_and_crop,
    "hsl_jitter": hsl_jitter,
    "color_jitter": color_jitter,
}


def steps(record):
    """The operations of an Augmentation record."""
    if record.window == "area":
        window = functools.partial(inception_window, area=record.area, aspect=record.aspect)
    elif record.window == "scale":
        window = functools.partial(
            scale_window, scale_range=record.scale, central_square=record.central_square
        )
    else:
        window = None
    # hsl_jitter's limits are the record's (hsl); the other steps take none.
    after_resize = tuple(
        functools.partial(STEPS[name], limits=record.hsl) if name == "hsl_jitter" else STEPS[name]
        for name in record.after_resize
    )
    return Steps(window, record.flip, after_resize)


# Every registered augmentation (the family modules register their papers'; importing
# keras_classics.models above has run them), as operations; and "none", no augmentation (the
# evaluation crop, no flip: not a paper's, for comparisons).
AUGMENTATIONS = {name: steps(record) for name, record in augmentations().items()}
AUGMENTATIONS["none"] = Steps(None, flip=False)


def default_augmentation(spec):
    """The augmentation of `spec`'s paper: the name of the record its family module gives
    (ModelSpec's `augmentation`); a model without one is a ValueError, not another paper's."""
    if spec.augmentation is None:
        raise ValueError(
            f"model {spec.name!r} (family {spec.family!r}) names no augmentation; accepted: "
            f"a family module's `augmentation`, one of {', '.join(map(repr, AUGMENTATIONS))}, "
            "or an explicit augmentation."
        )
    check_augmentation(spec.augmentation)
    return spec.augmentation


def check_augmentation(augmentation):
    if augmentation not in AUGMENTATIONS:
        raise ValueError(
            f"augmentation={augmentation!r} is invalid; accepted: "
            f"{', '.join(map(repr, AUGMENTATIONS))} or None (the family default)."
        )
    return AUGMENTATIONS[augmentation]


def augment(image, augmentation, image_size, seed, crop_ratio=0.875, extra_steps=()):
    """uint8 image or encoded bytes -> float32 [image_size, image_size, 3] in [0, 255].

    extra_steps: (image, seed) -> image steps after the augmentation's own (RandAugment,
    random erasing: pipeline.get_dataset), each with its own seed folded from `seed`, so that
    the seeds of the augmentation's steps are those of a run without them."""
    aug = check_augmentation(augmentation)
    seeds = _seeds(seed, 2 + len(aug.after_resize))
    shape = decoders.image_shape(image)
    window = (
        aug.window(shape, image_size, seeds[0])
        if aug.window is not None
        else center_window(shape, crop_ratio)
    )
    crop = decoders.decode_crop(image, window)
    if aug.flip:
        # Flipped before the resize, on the uint8 crop: a quarter of the bytes of the float
        # image, same result (the bilinear sampling grid is symmetric about the centre).
        crop = random_flip(crop, seeds[1])
    x = tf.image.resize(crop, [image_size, image_size])
    for step, step_seed in zip(aug.after_resize, seeds[2:]):
        x = step(x, step_seed)
    for i, step in enumerate(extra_steps):
        x = step(x, tf.random.experimental.stateless_fold_in(seed, 1 + i))
    return x


def train_preprocess(
    image, config, image_size, augmentation, seed, crop_ratio=None, normalize=True, extra_steps=()
):
    """The training entry point: augment, then normalise with the config's preprocessing mode
    (normalize=False: the augmented uint8 pixels, normalisation left to the model's device).

    The training resize stays bilinear whatever the config's (evaluation) interpolation: the
    papers' pipelines resize their random crops bilinearly.

    Args:
      image: encoded image bytes (scalar tf.string) or a decoded uint8 [H, W, 3] tensor.
      config: the model's InputConfig or ModelSpec (preprocessing mode, crop ratio for the
        augmentations that take the evaluation crop: "none", "pad_crop").
      image_size: output height = width.
      augmentation: a registered augmentation's name (AUGMENTATIONS).
      seed: int32/int64 [2] stateless seed; equal seeds give equal outputs.
      crop_ratio: in place of the config's.
      normalize: float32 normalised (True) or uint8 pixels in [0, 255] (False).
      extra_steps: see `augment`.
    """
    config = input_config(config, crop_ratio=crop_ratio)
    x = augment(image, augmentation, image_size, seed, config.crop_ratio, extra_steps)
    return finish(x, config.mode, normalize)
