"""Squeeze-and-excitation (Hu et al. 2018, section 3, Figure 2): channel gates from pooled
features, as SENet, MobileNetV3, MnasNet, EfficientNet and NFNet use it."""

import keras

# Activations a family's SE uses; Keras 3's "hard_sigmoid" is relu6(x + 3) / 6, MobileNetV3's
# (Howard et al. 2019, section 5.2), not tf.keras 2's clip(0.2 x + 0.5).
ACTIVATIONS = ("relu", "silu", "swish", "sigmoid", "hard_sigmoid", "hard_swish", "gelu")


@keras.saving.register_keras_serializable(package="keras_classics")
class SqueezeExcite(keras.layers.Layer):
    """x * gate(W2 act(W1 mean_hw(x) + b1) + b2), per example and channel.

    "Squeeze" is the global average over height and width (eq. 2), "excitation" two fully
    connected maps around a bottleneck of `reduced_channels` (eq. 3), and the block's output
    rescales each channel of x by its gate (eq. 4).

    The family computes `reduced_channels` from its own rule, since the papers differ:
    SENet r = 16 of the block's output channels (section 6.1), MobileNetV3 a quarter of the
    expanded channels rounded to a multiple of 8, MnasNet and EfficientNet a quarter of the
    block's *input* channels, NFNet half the output.

    Variables, in order: reduce_kernel (C, R), reduce_bias (R,), expand_kernel (R, C),
    expand_bias (C,): the two 1x1 convolutions (or Linear layers) of torchvision's
    SqueezeExcitation, timm's SEModule and keras.applications' two Conv2D layers, as dense
    matrices. One layer rather than five Keras layers (pooling, two convolutions, activation,
    multiply) keeps a model's summary and a conversion's name map at one entry per SE.
    """

    def __init__(self, reduced_channels, activation="relu", gate="sigmoid", **kwargs):
        super().__init__(**kwargs)
        if (
            isinstance(reduced_channels, bool)
            or not isinstance(reduced_channels, int)
            or reduced_channels < 1
        ):
            raise ValueError(
                f"SqueezeExcite reduced_channels={reduced_channels!r} is invalid; accepted: a "
                "positive integer."
            )
        for argument, value in (("activation", activation), ("gate", gate)):
            if value not in ACTIVATIONS:
                raise ValueError(
                    f"SqueezeExcite {argument}={value!r} is invalid; accepted: {ACTIVATIONS}."
                )
        self.reduced_channels = reduced_channels
        self.activation = activation
        self.gate = gate

    def build(self, input_shape):
        if len(input_shape) != 4 or input_shape[-1] is None:
            raise ValueError(
                f"SqueezeExcite expects (batch, height, width, channels) with known channels; "
                f"got input shape {tuple(input_shape)!r}."
            )
        channels = input_shape[-1]
        self.reduce_kernel = self.add_weight(
            name="reduce_kernel",
            shape=(channels, self.reduced_channels),
            initializer="glorot_uniform",
        )
        self.reduce_bias = self.add_weight(
            name="reduce_bias", shape=(self.reduced_channels,), initializer="zeros"
        )
        self.expand_kernel = self.add_weight(
            name="expand_kernel",
            shape=(self.reduced_channels, channels),
            initializer="glorot_uniform",
        )
        self.expand_bias = self.add_weight(
            name="expand_bias", shape=(channels,), initializer="zeros"
        )

    def call(self, inputs):
        ops = keras.ops
        squeezed = ops.mean(inputs, axis=(1, 2))
        hidden = keras.activations.get(self.activation)(
            ops.matmul(squeezed, self.reduce_kernel) + self.reduce_bias
        )
        gates = keras.activations.get(self.gate)(
            ops.matmul(hidden, self.expand_kernel) + self.expand_bias
        )
        return inputs * gates[:, None, None, :]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "reduced_channels": self.reduced_channels,
            "activation": self.activation,
            "gate": self.gate,
        }
