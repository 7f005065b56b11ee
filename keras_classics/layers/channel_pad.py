"""Zero channel padding for the parameter-free shortcut: option A of He et al. 2016, section 3.3."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="keras_classics")
class ChannelZeroPad(keras.layers.Layer):
    """Appends zero channels so that an identity shortcut reaches `channels` (channels last).

    "(A) The shortcut still performs identity mapping, with extra zero entries padded for
    increasing dimensions" (He et al. 2016). Spatial subsampling is a separate
    MaxPooling2D(pool_size=1, strides=2) before this layer.
    """

    def __init__(self, channels, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(channels, int) or channels < 1:
            raise ValueError(
                f"ChannelZeroPad channels={channels!r} is invalid; accepted: a positive integer."
            )
        self.channels = channels

    def build(self, input_shape):
        if input_shape[-1] is None or input_shape[-1] > self.channels:
            raise ValueError(
                f"ChannelZeroPad cannot pad {input_shape[-1]} input channels "
                f"to channels={self.channels}; accepted: at most {self.channels}."
            )

    def call(self, inputs):
        extra = self.channels - inputs.shape[-1]
        return tf.pad(inputs, [[0, 0]] * (len(inputs.shape) - 1) + [[0, extra]])

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.channels,)

    def get_config(self):
        return {**super().get_config(), "channels": self.channels}
