"""uint8 pixels -> a model's normalised input, on the device the model runs on."""

import keras
import tensorflow as tf

from keras_classics.layers.normalization import normalize
from keras_classics.records.input_config import MODES


@keras.saving.register_keras_serializable(package="keras_classics")
class InputNormalization(keras.layers.Layer):
    """`preprocess_input(x, mode)` as a layer: RGB pixels in [0, 255] (uint8 or float) in,
    the normalised image out, in the layer's compute dtype.

    The training program puts it in front of the model (keras_classics.training.run's
    build_and_compile), so that the input pipeline hands over uint8 batches, a quarter of the
    float32 bytes, and the cast and the per-channel multiply-add run where the model runs (a
    GPU under MirroredStrategy) instead of on the host's input threads. The arithmetic is
    keras_classics.layers.normalization.normalize, in float32 (so the same under any policy),
    cast to the compute dtype at the end. It has no weights: a model's weights files load
    with or without it.
    """

    def __init__(self, mode, **kwargs):
        super().__init__(**kwargs)
        if mode not in MODES:
            raise ValueError(
                f"InputNormalization mode={mode!r} is invalid; accepted: {tuple(MODES)}."
            )
        self.mode = mode

    def call(self, inputs):
        return tf.cast(normalize(inputs, self.mode), self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}
