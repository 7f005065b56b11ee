"""MixUp (Zhang et al. 2018) and CutMix (Yun et al. 2019) of whole batches, timm's way.

timm's Mixup (timm/data/mixup.py, mode "batch"): with probability `prob` a batch is mixed with
itself in reverse order, by CutMix with probability `switch_prob` when both are on, else by
MixUp; lambda ~ Beta(alpha, alpha) per batch. MixUp: lambda * x + (1 - lambda) * x_reversed.
CutMix: a box of side sqrt(1 - lambda) times the image's, centred uniformly and clipped to the
image, is pasted from x_reversed, and lambda becomes 1 - (box area / image area). The labels
are the same combination of the one-hot labels (label smoothing stays in the loss: smoothing
then mixing, timm's mixup_target, equals mixing then smoothing).

Not keras.layers.MixUp / CutMix: they draw from a stateful SeedGenerator (see randaugment.py),
and CutMix's label weight is computed from its fractional box while its mask pastes whole
pixels, so the weight differs from the pasted area (keras/src/layers/preprocessing/
image_preprocessing/cut_mix.py, _generate_batch_mask); it also draws alpha ~ U(0, factor)
per batch where the paper fixes alpha.

The batches stay uint8: mixed pixels are rounded to whole levels, as the pipeline's resized
crops are (pipeline.get_dataset).
"""

import dataclasses

import tensorflow as tf

from keras_classics.data.erasing import check_probability


@dataclasses.dataclass(frozen=True)
class Mixing:
    mixup: float = 0.0  # Beta alpha; 0: off
    cutmix: float = 0.0  # Beta alpha; 0: off
    prob: float = 1.0  # probability of mixing a batch (timm's mixup_prob)
    switch_prob: float = 0.5  # CutMix's share when both are on (timm's mixup_switch_prob)

    def __post_init__(self):
        for name in ("mixup", "cutmix"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(
                    f"{name}={value!r} is invalid; accepted: a Beta alpha > 0, or 0 (off)."
                )
        check_probability(self.prob, "mix_prob")
        check_probability(self.switch_prob, "mix_switch_prob")

    @property
    def on(self):
        return self.mixup > 0 or self.cutmix > 0


def beta(alpha, seed):
    """One Beta(alpha, alpha) sample from a stateless seed (the ratio of two Gammas)."""
    a, b = tf.unstack(tf.random.experimental.stateless_split(seed, num=2))
    ga = tf.random.stateless_gamma([], a, alpha)
    gb = tf.random.stateless_gamma([], b, alpha)
    return ga / (ga + gb)


def cutmix_box(height, width, lam, seed):
    """int32 [y0, y1, x0, x1] of timm's rand_bbox: sides sqrt(1 - lam) times the image's,
    centre uniform, clipped to the image."""
    ratio = tf.sqrt(1.0 - lam)
    cut_h = tf.cast(tf.cast(height, tf.float32) * ratio, tf.int32)
    cut_w = tf.cast(tf.cast(width, tf.float32) * ratio, tf.int32)
    y_seed, x_seed = tf.unstack(tf.random.experimental.stateless_split(seed, num=2))
    cy = tf.random.stateless_uniform([], y_seed, 0, height, dtype=tf.int32)
    cx = tf.random.stateless_uniform([], x_seed, 0, width, dtype=tf.int32)
    y0 = tf.clip_by_value(cy - cut_h // 2, 0, height)
    y1 = tf.clip_by_value(cy + cut_h // 2, 0, height)
    x0 = tf.clip_by_value(cx - cut_w // 2, 0, width)
    x1 = tf.clip_by_value(cx + cut_w // 2, 0, width)
    return tf.stack([y0, y1, x0, x1])


def mix_batch(images, labels, seed, mixing):
    """(uint8 [B, H, W, C], float32 one-hot [B, K], seed [2]) -> the mixed batch, labels.

    Returns (images, labels, lam, use_cutmix): lam is the first image's weight (for CutMix
    the share of its pixels left), the same for every image of the batch.
    """
    p_seed, s_seed, lam_seed, box_seed = tf.unstack(
        tf.random.experimental.stateless_split(seed, num=4)
    )
    apply = tf.random.stateless_uniform([], p_seed) < mixing.prob
    if mixing.mixup > 0 and mixing.cutmix > 0:
        use_cutmix = tf.random.stateless_uniform([], s_seed) < mixing.switch_prob
    else:
        use_cutmix = tf.constant(mixing.cutmix > 0)
    alpha = tf.where(use_cutmix, float(mixing.cutmix), float(mixing.mixup))
    lam = beta(alpha, lam_seed)
    other = tf.reverse(images, [0])
    shape = tf.shape(images)
    y0, y1, x0, x1 = tf.unstack(cutmix_box(shape[1], shape[2], lam, box_seed))

    # Only the chosen branch runs (tf.cond): CutMix on the uint8 pixels as they are, MixUp in
    # float32, rounded back.
    def cutmix():
        rows = tf.range(shape[1])[None, :, None, None]
        cols = tf.range(shape[2])[None, None, :, None]
        box = (rows >= y0) & (rows < y1) & (cols >= x0) & (cols < x1)
        return tf.where(box, other, images)

    def mixup():
        x = lam * tf.cast(images, tf.float32) + (1.0 - lam) * tf.cast(other, tf.float32)
        return tf.cast(tf.round(x), images.dtype)

    mixed = tf.cond(
        apply,
        lambda: tf.cond(use_cutmix, cutmix, mixup),
        lambda: tf.identity(images),
    )
    box_area = tf.cast((y1 - y0) * (x1 - x0), tf.float32)
    cut_lam = 1.0 - box_area / tf.cast(shape[1] * shape[2], tf.float32)
    lam = tf.where(use_cutmix, cut_lam, lam)
    lam = tf.where(apply, lam, 1.0)
    out_labels = lam * labels + (1.0 - lam) * tf.reverse(labels, [0])
    return mixed, out_labels, lam, use_cutmix & apply


def mix_dataset(ds, num_classes, seed, mixing, rerandomize):
    """Batches (uint8 images, int labels) -> (mixed images, float32 soft labels [B, K]); the
    n-th batch's draws are a function of (seed, n), so an epoch's data stays a pure function
    of (seed, epoch) under --deterministic (pipeline.get_dataset)."""
    seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=rerandomize).batch(2)
    # A tag folded in: the per-image seeds come from the same stream.
    seeds = seeds.map(lambda s: tf.random.experimental.stateless_fold_in(s, 0x6D6978))

    def fn(batch, s):
        images, labels = batch
        onehot = tf.one_hot(labels, num_classes)
        images, labels, _, _ = mix_batch(images, onehot, s, mixing)
        return images, labels

    return tf.data.Dataset.zip((ds, seeds)).map(fn, num_parallel_calls=tf.data.AUTOTUNE)
