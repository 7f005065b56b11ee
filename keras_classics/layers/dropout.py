"""Dropout that draws on N replicas the masks one device draws for the same global batch."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="keras_classics")
class GlobalBatchDropout(keras.layers.Dropout):
    """keras.layers.Dropout whose masks do not depend on how the batch is split.

    Under a distribution strategy each replica of keras.layers.Dropout draws the mask of its
    own share of the batch from the same seed, so two replicas of 8 examples apply two copies
    of one [8, ...] mask where one device applies a [16, ...] mask: the runs differ from the
    first step. Here every replica draws the mask of the whole global batch, with the seed
    one device would use at that step (the layer's SeedGenerator advances once a step on
    every replica alike), and keeps the rows of its own examples: N replicas apply exactly
    the one-device mask, at the cost of drawing N times as many random numbers. Outside a
    multi-replica context it is keras.layers.Dropout.

    The training program uses it in place of Dropout for every run
    (keras_classics.training.distribute.for_replicas), so one device and N replicas train
    the same model.
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        if noise_shape is not None:
            raise ValueError(
                f"GlobalBatchDropout noise_shape={noise_shape!r} is invalid; accepted: None "
                "(a mask element per activation, as every registered model uses)."
            )
        super().__init__(rate, noise_shape=None, seed=seed, **kwargs)

    def call(self, inputs, training=False):
        context = tf.distribute.get_replica_context()
        replicas = context.num_replicas_in_sync if context is not None else 1
        if not training or self.rate == 0 or replicas == 1:
            return super().call(inputs, training=training)
        # What keras.random.dropout does with the layer's SeedGenerator (keras' TF backend:
        # draw the next seed, fold it into int32), for the global batch's shape.
        seed = self.seed_generator.next()
        seed = tf.cast(tf.math.floormod(seed, tf.int32.max - 1), tf.int32)
        local = tf.shape(inputs)[0]
        shape = tf.concat([[local * replicas], tf.shape(inputs)[1:]], axis=0)
        mask = tf.nn.experimental.stateless_dropout(
            tf.ones(shape, inputs.dtype), rate=self.rate, seed=seed
        )
        start = context.replica_id_in_sync_group * local
        # ones * 1/(1 - rate) * keep is exactly the factor stateless_dropout applies to x.
        return inputs * mask[start : start + local]
