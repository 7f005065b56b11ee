"""Grouped 2-D convolution that trains on CPU (ResNeXt, Xie et al. 2017; AlexNet's 2-GPU split)."""

import keras
import tensorflow as tf

from keras_classics.layers.conv import Conv2D


@keras.saving.register_keras_serializable(package="keras_classics")
class GroupConv2D(Conv2D):
    """Conv2D with `groups`, computed as `groups` dense convolutions on channel slices.

    Takes every keras.layers.Conv2D argument (strides, padding, dilation_rate, use_bias,
    initialisers, regularisers, constraints) and stores the same (kh, kw, cin/groups, cout)
    kernel, so weights move freely between the two classes.

    Why not Conv2D(groups=g)? On the TensorFlow backend Keras 3 sends every grouped convolution
    through an XLA-compiled function; measured on a 2-core CPU (TF 2.21; docs/api.md, Layers)
    a CPU training step is ~170x slower than split convolutions, and eager calls retrace.

    Why not one tf.nn.conv2d on the grouped kernel? Its forward pass works, but measured here
    inside model.fit on CPU (TF 2.21): the gradients fail ("Gradients for grouped convolutions
    are not supported on CPU", or a filter-size check in Conv2DBackpropFilter), and Grappler
    fuses a following bias add into _FusedConv2D, which rejects groups. Split + conv + concat
    uses only ops every runtime has (TF CPU/GPU, SavedModel, TFLite builtins SPLIT, CONV_2D,
    CONCATENATION) and trains as fast as a dense conv of the same width on CPU.

    Each group's convolution leaves out the kernel taps that only meet padding, as
    keras_classics.layers.Conv2D does.
    """

    def convolution_op(self, inputs, kernel):
        if self.groups == 1:
            return super().convolution_op(inputs, kernel)
        axis = -1 if self.data_format == "channels_last" else 1
        pieces = zip(
            tf.split(inputs, self.groups, axis=axis), tf.split(kernel, self.groups, axis=-1)
        )
        return tf.concat(
            [super(GroupConv2D, self).convolution_op(x, k) for x, k in pieces], axis=axis
        )


def conv2d(filters, kernel_size, groups=1, **kwargs):
    """keras_classics' Conv2D for groups=1, GroupConv2D otherwise (same arguments and kernel
    as keras.layers.Conv2D)."""
    if groups == 1:
        return Conv2D(filters, kernel_size, **kwargs)
    return GroupConv2D(filters, kernel_size, groups=groups, **kwargs)
