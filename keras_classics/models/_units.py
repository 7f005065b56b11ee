"""Units several families share: He initialisation and the symmetrically padded convolution."""

import keras

from keras_classics.layers.group_conv import conv2d


def he_normal(mode):
    """He et al. 2015's normal initialisation, N(0, 2 / fan), over each conv's "fan_in" or
    "fan_out" (of one group). A fresh instance per layer: a Keras 3 initializer object draws
    the same values on every call, so a shared one would give equal-shaped convs equal
    weights."""
    return keras.initializers.VarianceScaling(2.0, mode=mode, distribution="untruncated_normal")


def padded_conv(x, filters, kernel, stride, name, groups=1, fan="fan_out", conv_name=None):
    """A conv without bias, `conv_name` (default `{name}_conv`); a strided 3x3 or 7x7 pads
    symmetrically (kernel // 2, `{name}_pad`) as the papers' Caffe, Torch and MXNet code does,
    not with Keras' asymmetric 'same' (which would shift every feature map by one pixel). He
    initialisation over `fan`."""
    padding = "same"
    if kernel > 1 and stride > 1:
        x = keras.layers.ZeroPadding2D(kernel // 2, name=f"{name}_pad")(x)
        padding = "valid"
    return conv2d(
        filters,
        kernel,
        strides=stride,
        padding=padding,
        groups=groups,
        use_bias=False,
        kernel_initializer=he_normal(fan),
        name=conv_name or f"{name}_conv",
    )(x)
