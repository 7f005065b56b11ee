"""Decoders: encoded bytes -> tensors, without raising on the bad data the pipeline must name.

The ImageNet TFRecord layout is the one of TensorFlow's `build_imagenet_data.py` (tf.Example
features image/encoded, image/class/label, image/class/synset, image/height, image/width,
image/format, image/filename). `check_encoded` finds the bad files a data set really holds
(zero bytes, a non-image file, a truncated JPEG/PNG) with cheap byte tests, so the pipeline can
name the record before a decoder op fails without saying which file it was reading.
"""

import tensorflow as tf

# Reason codes of a bad record; 0 = good. Index = position in the skip_errors counters.
REASONS = (
    "ok",
    "missing_feature",
    "empty",
    "not_an_image",
    "truncated",
    "label_out_of_range",
    "synset_mismatch",
    "undecodable",
)
CODE = {name: i for i, name in enumerate(REASONS)}

_MISSING = "\x00missing"  # default of an absent feature: tells it apart from 0 bytes
_MISSING_LABEL = -(2**62)
IMAGENET_FEATURES = {
    "image/encoded": tf.io.FixedLenFeature([], tf.string, default_value=_MISSING),
    "image/class/label": tf.io.FixedLenFeature([], tf.int64, default_value=_MISSING_LABEL),
    "image/class/synset": tf.io.FixedLenFeature([], tf.string, default_value=""),
    "image/filename": tf.io.FixedLenFeature([], tf.string, default_value=""),
}
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def parse_imagenet_example(serialized, record_id):
    """One serialized tf.Example -> record dict (image bytes, raw label, id, error code, detail).

    A missing image/encoded or image/class/label gives code "missing_feature", never a default
    label. Raises (op error) only when `serialized` is not a tf.Example at all.
    """
    f = tf.io.parse_single_example(serialized, IMAGENET_FEATURES)
    name = f["image/filename"]
    rid = tf.strings.join(
        [record_id, tf.where(tf.strings.length(name) > 0, tf.strings.join([" (", name, ")"]), "")]
    )
    no_image = tf.equal(f["image/encoded"], _MISSING)
    no_label = tf.equal(f["image/class/label"], _MISSING_LABEL)
    code = tf.where(no_image | no_label, CODE["missing_feature"], 0)
    detail = tf.where(
        no_image,
        "tf.Example has no image/encoded feature",
        tf.where(no_label, "tf.Example has no image/class/label feature", ""),
    )
    return {
        "image": f["image/encoded"],
        "label": f["image/class/label"],
        "id": rid,
        "synset": f["image/class/synset"],
        "code": code,
        "detail": detail,
    }


def is_png(data):
    return tf.equal(tf.strings.substr(data, 0, 8), _PNG_MAGIC)


def is_jpeg(data):
    return tf.equal(tf.strings.substr(data, 0, 3), b"\xff\xd8\xff")


def _is_image(data):
    head = tf.strings.substr(data, 0, 3)
    return (
        is_jpeg(data)
        | is_png(data)
        | tf.equal(head, b"GIF")
        | tf.equal(tf.strings.substr(data, 0, 2), b"BM")
    )


def _has_end_marker(data):
    """JPEG: an end-of-image marker FFD9 in the last 64 bytes (writers may pad after it);
    PNG: the IEND chunk (its type 8 bytes from the end, before the CRC). Others: True."""
    n = tf.strings.length(data)
    k = tf.minimum(n, 64)
    tail = tf.io.decode_raw(tf.strings.substr(data, n - k, k), tf.uint8)
    pairs = tf.logical_and(tf.equal(tail[:-1], 0xFF), tf.equal(tail[1:], 0xD9))
    jpeg_ok = tf.reduce_any(pairs)
    png_ok = tf.equal(tf.strings.substr(data, tf.maximum(n - 8, 0), 4), b"IEND")
    return tf.where(is_jpeg(data), jpeg_ok, tf.where(is_png(data), png_ok, True))


def check_encoded(data):
    """(code, detail) for encoded image bytes: empty, not an image, truncated, else ok (0)."""
    empty = tf.equal(tf.strings.length(data), 0)
    not_image = ~empty & ~_is_image(data)
    truncated = ~empty & ~not_image & ~_has_end_marker(data)
    code = tf.where(
        empty,
        CODE["empty"],
        tf.where(not_image, CODE["not_an_image"], tf.where(truncated, CODE["truncated"], 0)),
    )
    detail = tf.where(
        empty,
        "empty image data (0 bytes)",
        tf.where(
            not_image,
            "not a JPEG, PNG, GIF or BMP image",
            tf.where(truncated, "truncated image data (no end-of-image marker)", ""),
        ),
    )
    return code, detail


def decode_image(data):
    """Encoded JPEG/PNG/GIF/BMP bytes -> uint8 [H, W, 3] (grey repeated, alpha dropped)."""
    image = tf.io.decode_image(data, channels=3, expand_animations=False)
    image.set_shape([None, None, 3])
    return image


def image_shape(image):
    """[height, width] of an encoded image (JPEG: from the header only) or a decoded tensor."""
    if image.dtype != tf.string:
        return tf.shape(image)[:2]
    return tf.cond(
        is_jpeg(image),
        lambda: tf.cast(tf.image.extract_jpeg_shape(image)[:2], tf.int32),
        lambda: tf.shape(decode_image(image))[:2],
    )


def decode_crop(image, window):
    """uint8 [h, w, 3] crop `window` = [y, x, h, w] of encoded bytes or a decoded tensor.

    JPEG bytes are decoded only inside the window (tf.image.decode_and_crop_jpeg), which skips
    most of the IDCT work for small crops: the reason the pipeline keeps images encoded this far.
    """
    y, x, h, w = tf.unstack(window)
    if image.dtype != tf.string:
        return image[y : y + h, x : x + w]

    out = tf.cond(
        is_jpeg(image),
        lambda: tf.image.decode_and_crop_jpeg(image, window, channels=3),
        lambda: decode_image(image)[y : y + h, x : x + w],
    )
    out.set_shape([None, None, 3])
    return out
