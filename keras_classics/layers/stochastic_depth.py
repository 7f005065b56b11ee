"""Stochastic depth (Huang et al. 2016, "Deep Networks with Stochastic Depth"): a residual
branch dropped for whole examples in training; EfficientNet's drop-connect, NFNet's StochDepth."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="keras_classics")
class StochasticDepth(keras.layers.Layer):
    """Keeps each example's residual branch with probability 1 - `rate` in training.

    Called on the branch's output before it is added to the shortcut. In training every example
    of the batch gets one Bernoulli(1 - rate) draw for its whole branch tensor, divided by
    1 - rate when `scale_by_keep` (timm's DropPath, keras.applications' EfficientNet, which
    keeps the expected sum as at inference); DeepMind's NFNet StochDepth does not rescale
    (scale_by_keep=False). At inference it returns its input, so exported inference graphs hold
    none of its ops.

    As GlobalBatchDropout (dropout.py), every replica of a distribution strategy draws the mask
    of the whole global batch from the seed one device would use at that step and keeps the rows
    of its own examples: N replicas drop the examples one device drops.
    """

    def __init__(self, rate, scale_by_keep=True, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
            raise ValueError(
                f"StochasticDepth rate={rate!r} is invalid; accepted: a drop rate in [0, 1)."
            )
        if not isinstance(scale_by_keep, bool):
            raise ValueError(
                f"StochasticDepth scale_by_keep={scale_by_keep!r} is invalid; accepted: True "
                "or False."
            )
        self.rate = float(rate)
        self.scale_by_keep = scale_by_keep
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        context = tf.distribute.get_replica_context()
        replicas = context.num_replicas_in_sync if context is not None else 1
        replica = context.replica_id_in_sync_group if context is not None else 0
        # The layer's SeedGenerator advances once a step on every replica alike (dropout.py).
        seed = self.seed_generator.next()
        seed = tf.cast(tf.math.floormod(seed, tf.int32.max - 1), tf.int32)
        local = tf.shape(inputs)[0]
        uniform = tf.random.stateless_uniform([local * replicas], seed=seed)
        keep = 1.0 - self.rate
        mask = tf.cast(uniform < keep, inputs.dtype)
        if self.scale_by_keep:
            mask = mask / tf.cast(keep, inputs.dtype)
        mask = mask[replica * local : (replica + 1) * local]
        # One factor per example, broadcast over the branch tensor's other axes.
        shape = tf.concat([[local], tf.ones([tf.rank(inputs) - 1], tf.int32)], axis=0)
        return inputs * tf.reshape(mask, shape)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "rate": self.rate,
            "scale_by_keep": self.scale_by_keep,
            "seed": self.seed,
        }
