"""Scaled residual addition of Inception-ResNet (Szegedy et al. 2017, section 3.3, Figure 20),
and of the normalizer-free networks (Brock et al. 2021: alpha and the SkipInit gain)."""

import numbers

import keras


@keras.saving.register_keras_serializable(package="keras_classics")
class ScaledResidual(keras.layers.Layer):
    """x + scale * r for inputs [x, r] of the same shape; x + scale * g * r with skip_gain=True.

    "If the number of filters exceeded 1000, the residual variants started to exhibit
    instabilities ... scaling down the residuals before adding them to the previous layer
    activation seemed to stabilize the training" (section 3.3; factors "between 0.1 and 0.3").

    keras.applications' CustomScaleLayer does the same but is not registered for
    serialization, so its saved models need custom_objects; this layer loads with
    safe_mode=True.

    skip_gain=True adds a trainable scalar g, initialised to 0 (SkipInit, De & Smith 2020): the
    NFNets' `skip_gain` (deepmind-research nfnets/nfnet.py), each residual block starting as
    the identity; `scale` is then their alpha (times 2 after squeeze-excitation).
    """

    def __init__(self, scale, skip_gain=False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(scale, bool) or not isinstance(scale, numbers.Real):
            raise ValueError(
                f"ScaledResidual scale={scale!r} is invalid; accepted: a real "
                "number (Inception-ResNet uses 0.1 to 0.3)."
            )
        if not isinstance(skip_gain, bool):
            raise ValueError(
                f"ScaledResidual skip_gain={skip_gain!r} is invalid; accepted: True or False."
            )
        self.scale = float(scale)
        self.skip_gain = skip_gain

    def build(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) != 2:
            raise ValueError(
                f"ScaledResidual expects two inputs [x, r]; got input shape {input_shape!r}."
            )
        x_shape, r_shape = (tuple(s) for s in input_shape)
        if x_shape[1:] != r_shape[1:]:
            raise ValueError(
                f"ScaledResidual inputs differ in shape: x {x_shape}, "
                f"r {r_shape}; accepted: equal shapes."
            )
        if self.skip_gain:
            self.gain = self.add_weight(name="skip_gain", shape=(), initializer="zeros")

    def call(self, inputs):
        x, r = inputs
        if self.skip_gain:
            return x + (self.scale * keras.ops.cast(self.gain, r.dtype)) * r
        return x + self.scale * r

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "skip_gain": self.skip_gain}
