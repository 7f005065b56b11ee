"""RandAugment (Cubuk et al. 2020) with Keras' own layer, drawn from per-image stateless seeds.

keras.layers.RandAugment draws its random numbers from a keras.random.SeedGenerator, a
variable that every call advances (keras/src/random/seed_generator.py; draw_seed refuses a
seed tensor). In a parallel tf.data map the calls reach that variable in an order set by
thread timing, so the same --seed would augment differently from run to run, and a resumed
epoch could not repeat the killed one. `_Seeds` is a SeedGenerator without a variable: it
hands out the seeds stateless_fold_in(image seed, 1), (image seed, 2), ..., so every draw is
a function of the image's pipeline seed (pipeline.py), as every other augmentation here is.

Keras' transform_images runs all 11 operations on every image and keeps the chosen ones
(numpy.where); `_PerImageRandAugment` runs only the chosen ones (tf.switch_case), the same
pixels for a fraction of the work (benchmarks/bench_data.py).

Magnitude: Keras' `factor` in [0, 1]; the paper's M in [0, 10] (timm's `rand-mM`) is factor
M / 10, and each operation's strength is drawn from [0, factor] (Keras' convention; the paper
uses M itself). Keras' operations: shear, translation, rotation, brightness, colour, contrast,
sharpness, posterize, solarize, autocontrast, equalize (the paper's list without identity).
"""

import keras
import tensorflow as tf

MAX_MAGNITUDE = 10  # the paper's scale (Cubuk et al. 2020, section 3)


class _Seeds(keras.random.SeedGenerator):
    """A SeedGenerator whose n-th seed is stateless_fold_in(seed, n): no state variable."""

    def __init__(self, seed):  # no super().__init__(): that would make the variable
        self._seed, self._count = tf.cast(seed, tf.int32), 0

    def next(self, ordered=True):
        self._count += 1
        return tf.random.experimental.stateless_fold_in(self._seed, self._count)


class _PerImageRandAugment(keras.layers.RandAugment):
    """keras.layers.RandAugment drawing from `seeds` and running only the chosen operations."""

    seeds = None

    def _get_seed_generator(self, backend=None):
        return self.seeds

    def transform_images(self, images, transformation, training=True):
        images = tf.cast(images, self.compute_dtype)
        layers = [(getattr(self, key), t) for key, t in transformation["transforms"].items()]
        for i in range(self.num_ops):
            current = images
            branches = [
                (lambda layer=layer, t=t, x=current: layer.transform_images(x, t))
                for layer, t in layers
            ]
            images = tf.ensure_shape(
                tf.cast(
                    tf.switch_case(transformation["layer_idxes"][i], branches), self.compute_dtype
                ),
                current.shape,
            )
        return images


def check_randaugment(value, name="randaugment"):
    """(N, M) with N >= 1 operations and magnitude 0 <= M <= 10, or None."""
    if value is None:
        return None
    ok = (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and isinstance(value[0], int)
        and not isinstance(value[0], bool)
        and value[0] >= 1
        and isinstance(value[1], (int, float))
        and 0 <= value[1] <= MAX_MAGNITUDE
    )
    if not ok:
        raise ValueError(
            f"{name}={value!r} is invalid; accepted: (N, M), N >= 1 operations per image and "
            f"magnitude 0 <= M <= {MAX_MAGNITUDE} (the paper's scale), or None."
        )
    return tuple(value)


def rand_augment(num_ops, magnitude):
    """The step (float32 [H, W, 3] in [0, 255], seed) -> the same, `num_ops` operations at
    `magnitude`. Made outside the tf.data function: the Keras layer owns variables (its unused
    SeedGenerator), which cannot be created while the function is traced."""
    check_randaugment((num_ops, magnitude))
    layer = _PerImageRandAugment(
        value_range=(0, 255), num_ops=num_ops, factor=magnitude / MAX_MAGNITUDE
    )

    def step(image, seed):
        # A batch of one: Keras' operations are written for batches.
        batch = image[None]
        layer.seeds = _Seeds(seed)
        transformation = layer.get_random_transformation(batch, training=True)
        return tf.clip_by_value(layer.transform_images(batch, transformation)[0], 0.0, 255.0)

    return step
