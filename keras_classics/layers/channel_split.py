"""Splitting a feature map's channels into consecutive parts (Dual Path Networks' residual and
dense paths, Chen et al. 2017, section 3; ShuffleNet v2's channel split, Ma et al. 2018)."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="keras_classics")
class ChannelSplit(keras.layers.Layer):
    """Splits the last axis at `sizes`: returns a list of len(sizes) tensors, the i-th holding
    the next sizes[i] channels, in order.

    One tf.split with explicit sizes: TFLite's builtin SPLIT_V (SPLIT for equal parts), no
    Lambda, and a saved model reloads with safe_mode=True. The sizes must add up to the
    input's channels, checked when the layer is built.
    """

    def __init__(self, sizes, **kwargs):
        super().__init__(**kwargs)
        if (
            not isinstance(sizes, (tuple, list))
            or len(sizes) < 2
            or any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in sizes)
        ):
            raise ValueError(
                f"ChannelSplit sizes={sizes!r} is invalid; accepted: two or more positive "
                "integers, the channels of each part in order."
            )
        self.sizes = tuple(sizes)

    def build(self, input_shape):
        if input_shape[-1] is not None and input_shape[-1] != sum(self.sizes):
            raise ValueError(
                f"ChannelSplit sizes={self.sizes!r} add up to {sum(self.sizes)} channels, but "
                f"the input has {input_shape[-1]}; accepted: sizes adding up to the input's "
                "channels."
            )

    def call(self, inputs):
        return tf.split(inputs, list(self.sizes), axis=-1)

    def compute_output_shape(self, input_shape):
        return [tuple(input_shape[:-1]) + (size,) for size in self.sizes]

    def get_config(self):
        return {**super().get_config(), "sizes": list(self.sizes)}
