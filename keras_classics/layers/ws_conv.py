"""Scaled weight-standardised convolution (Brock et al. ICLR 2021, "Characterizing signal
propagation to close the performance gap in unnormalized ResNets", section 4; the NF-ResNets'
and NFNets' only convolution)."""

import numbers

import keras
import numpy as np

from keras_classics.layers.group_conv import GroupConv2D, conv2d

# DeepMind's WSConv2D (deepmind-research nfnets/base.py): rsqrt(max(fan_in * var, 1e-4)).
VARIANCE_FLOOR = 1e-4


@keras.saving.register_keras_serializable(package="keras_classics")
class ScaledStdConv2D(GroupConv2D):
    """A convolution whose kernel is standardised per output channel before use:

        W' = gamma * gain * (W - mean(W)) / sqrt(max(N * (var(W) + epsilon), 1e-4))

    mean and (biased) variance over each output channel's N = kh * kw * cin / groups taps,
    `gain` a trainable vector (one per output channel, initialised to `gain_init`), then the
    bias. With gamma=1 and epsilon=0 this is DeepMind's WSConv2D (deepmind-research
    nfnets/base.py); timm's ScaledStdConv2d(Same) adds its eps to the variance (epsilon) and
    multiplies in the activation's gamma where the network does not scale its activations.

    Takes every GroupConv2D (keras.layers.Conv2D) argument; use_bias defaults to True.
    Variables: kernel (kh, kw, cin / groups, cout) as Conv2D's, bias, gain (cout,).

    W' depends on the weights only: `standardized_kernel()` gives it, and
    `fold_standardized_kernels(model)` replaces every such layer by a plain convolution
    holding W', which the export runs (keras_classics/export/signatures.py), so exported
    graphs hold the folded kernel instead of per-kernel mean and variance ops.
    """

    def __init__(
        self,
        filters,
        kernel_size,
        gamma=1.0,
        epsilon=0.0,
        gain_init=1.0,
        use_bias=True,
        kernel_initializer=None,
        **kwargs,
    ):
        for argument, value, low in (("gamma", gamma, 0.0), ("epsilon", epsilon, 0.0)):
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or value < low:
                raise ValueError(
                    f"ScaledStdConv2D {argument}={value!r} is invalid; accepted: a real number "
                    f">= {low}" + (" (> 0 for gamma)." if argument == "gamma" else ".")
                )
        if gamma == 0:
            raise ValueError(
                f"ScaledStdConv2D gamma={gamma!r} is invalid; accepted: a real number > 0."
            )
        if isinstance(gain_init, bool) or not isinstance(gain_init, numbers.Real):
            raise ValueError(
                f"ScaledStdConv2D gain_init={gain_init!r} is invalid; accepted: a real number."
            )
        # DeepMind's WSConv2D initialiser: VarianceScaling(1.0, fan_in, truncated normal); its
        # scale does not matter once standardised.
        if kernel_initializer is None:
            kernel_initializer = keras.initializers.VarianceScaling(
                1.0, "fan_in", "truncated_normal"
            )
        super().__init__(
            filters,
            kernel_size,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            **kwargs,
        )
        self.gamma = float(gamma)
        self.epsilon = float(epsilon)
        self.gain_init = float(gain_init)

    def build(self, input_shape):
        super().build(input_shape)
        self.gain = self.add_weight(
            name="gain",
            shape=(self.filters,),
            initializer=keras.initializers.Constant(self.gain_init),
        )

    def _variables(self):
        return [self._kernel] + ([self.bias] if self.use_bias else []) + [self.gain]

    # Keras' convolutions save and load only their kernel and bias (base_conv.py): the gain
    # too, in the order of `weights`.
    def save_own_variables(self, store):
        if not self.built:
            return
        for i, variable in enumerate(self._variables()):
            store[str(i)] = variable

    def load_own_variables(self, store):
        self._check_load_own_variables(store)
        if not self.built:
            return
        for i, variable in enumerate(self._variables()):
            variable.assign(store[str(i)])

    def standardize(self, kernel):
        ops = keras.ops
        dtype = kernel.dtype
        # In float32 whatever the compute dtype: bfloat16 moments of a kernel are coarse.
        kernel = ops.cast(kernel, "float32")
        fan_in = float(np.prod(kernel.shape[:-1]))
        mean = ops.mean(kernel, axis=(0, 1, 2), keepdims=True)
        var = ops.var(kernel, axis=(0, 1, 2), keepdims=True)
        scale = ops.rsqrt(ops.maximum(fan_in * (var + self.epsilon), VARIANCE_FLOOR))
        scale = scale * (self.gamma * ops.cast(self.gain, "float32"))
        return ops.cast((kernel - mean) * scale, dtype)

    def convolution_op(self, inputs, kernel):
        return super().convolution_op(inputs, self.standardize(kernel))

    def standardized_kernel(self):
        """W' as a NumPy array (the kernel the convolution applies)."""
        return keras.ops.convert_to_numpy(self.standardize(self.kernel))

    def folded_layer(self):
        """A plain (group) convolution of the same configuration and name, unbuilt; its
        weights are [standardized_kernel(), bias]."""
        config = {
            k: v for k, v in self.get_config().items() if k not in ("gamma", "epsilon", "gain_init")
        }
        groups = config.pop("groups", 1)
        return conv2d(groups=groups, **config)

    def get_config(self):
        return {
            **super().get_config(),
            "gamma": self.gamma,
            "epsilon": self.epsilon,
            "gain_init": self.gain_init,
        }


def fold_standardized_kernels(model):
    """`model` with each ScaledStdConv2D replaced by a plain convolution holding its
    standardised kernel (and bias), every other layer shared; `model` itself when it has none.

    The inference graph of the result reads the kernels as they are: no mean, variance or
    rsqrt of a kernel at run time, and a SavedModel stores W' itself (so TFLite's and ONNX's
    frozen constants are W').
    """
    if not any(isinstance(layer, ScaledStdConv2D) for layer in model.layers):
        return model
    folded = {}

    def clone(layer):
        if isinstance(layer, ScaledStdConv2D):
            folded[layer.name] = (layer, layer.folded_layer())
            return folded[layer.name][1]
        return layer

    clone_model = keras.models.clone_model(model, clone_function=clone)
    for layer, plain in folded.values():
        weights = [layer.standardized_kernel()] + ([layer.bias.numpy()] if layer.use_bias else [])
        plain.set_weights(weights)
    return clone_model
