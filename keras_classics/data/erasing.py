"""Random erasing (Zhong et al. 2020, Algorithm 1), per image, from the image's stateless seed.

With probability p, a box of area s * H * W, s ~ U[0.02, 1/3], and aspect r, log r ~
U[log 0.3, log 3.3], is filled with random pixel values; the box is sampled up to 10 times
until it fits (torchvision's RandomErasing tries 10 times too, then leaves the image).

Not keras.layers.RandomErasing: it draws from a stateful SeedGenerator (see randaugment.py:
not reproducible in a parallel tf.data map), its `factor` is no probability of erasing an
image, and it fills with N(0, 1) * 255 noise where the paper draws uniform pixel values.
"""

import math

import tensorflow as tf

AREA = (0.02, 1 / 3)
LOG_ASPECT = (math.log(0.3), math.log(1 / 0.3))
ATTEMPTS = 10


def check_probability(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError(f"{name}={value!r} is invalid; accepted: a probability in [0, 1].")
    return float(value)


def erasing_box(shape, probability, seed):
    """int32 [y, x, h, w] of the box to erase in an image of `shape` [H, W]; h = w = 0: none."""
    p_seed, a_seed, r_seed, y_seed, x_seed = tf.unstack(
        tf.random.experimental.stateless_split(seed, num=5)
    )
    h_img, w_img = tf.cast(shape[0], tf.float32), tf.cast(shape[1], tf.float32)
    area = tf.random.stateless_uniform([ATTEMPTS], a_seed, *AREA) * h_img * w_img
    aspect = tf.exp(tf.random.stateless_uniform([ATTEMPTS], r_seed, *LOG_ASPECT))
    h = tf.cast(tf.round(tf.sqrt(area * aspect)), tf.int32)
    w = tf.cast(tf.round(tf.sqrt(area / aspect)), tf.int32)
    fits = (h < shape[0]) & (w < shape[1]) & (h > 0) & (w > 0)
    first = tf.argmax(tf.cast(fits, tf.int32), output_type=tf.int32)
    erase = tf.reduce_any(fits) & (tf.random.stateless_uniform([], p_seed) < probability)
    h = tf.where(erase, h[first], 0)
    w = tf.where(erase, w[first], 0)
    y = tf.random.stateless_uniform([], y_seed, 0, shape[0] - h + 1, dtype=tf.int32)
    x = tf.random.stateless_uniform([], x_seed, 0, shape[1] - w + 1, dtype=tf.int32)
    return tf.stack([y, x, h, w])


def random_erasing(probability):
    """The step (float32 [H, W, C] in [0, 255], seed) -> the image with one box (probability
    `probability`) replaced by uniform random pixels in [0, 255]; the box is
    erasing_box(shape, probability, seed)."""
    probability = check_probability(probability, "random_erasing")

    def step(image, seed):
        fill_seed = tf.random.experimental.stateless_fold_in(seed, 1)
        shape = tf.shape(image)
        y, x, h, w = tf.unstack(erasing_box(shape[:2], probability, seed))

        def erase():
            rows = tf.range(shape[0])[:, None, None]
            cols = tf.range(shape[1])[None, :, None]
            inside = (rows >= y) & (rows < y + h) & (cols >= x) & (cols < x + w)
            noise = tf.random.stateless_uniform(shape, fill_seed, 0.0, 255.0, dtype=image.dtype)
            return tf.where(inside, noise, image)

        # The noise only for the images erased (a share `probability` of them).
        return tf.cond(h > 0, erase, lambda: tf.identity(image))

    return step
