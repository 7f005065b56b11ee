"""Conv2D that leaves out the kernel taps which only ever meet zero padding.

A 3x3 'same' convolution on a 1x1 feature map (ResNet's last stage at a 32-pixel input) multiplies
eight of its nine taps by padding zeros, forward and backward: the result is a 1x1 convolution
with the centre tap. Computing it as one gives the same outputs and the same kernel gradient
(zero for the dead taps): a ResNet-18 training step at 32x32, batch 128, took 0.35 s instead of
0.66 s (TF 2.21 with oneDNN, 2-core EPYC; benchmarks/bench_models.py, docs/results.md). At the
papers' input sizes every tap meets real pixels and the layer computes what keras.layers.Conv2D
does.
"""

import keras
import tensorflow as tf


def live_taps(size, kernel, stride):
    """The kernel taps along one axis that meet real input under TensorFlow's 'same' padding
    (extra padding after), and the explicit padding they then need.

    Args:
      size: input length along the axis (static).
      kernel, stride: the convolution's along that axis (dilation 1).
    Returns:
      (first, stop, pad_before, pad_after): taps first..stop-1 with this explicit padding
      give the same output as the whole kernel with 'same' padding.
    """
    out = -(-size // stride)
    before = max((out - 1) * stride + kernel - size, 0) // 2
    live = [
        t for t in range(kernel) if any(0 <= o * stride + t - before < size for o in range(out))
    ]
    first, stop = live[0], live[-1] + 1
    pad_before = before - first
    pad_after = max(0, (out - 1) * stride + (stop - first) - size - pad_before)
    return first, stop, pad_before, pad_after


@keras.saving.register_keras_serializable(package="keras_classics")
class Conv2D(keras.layers.Conv2D):
    """keras.layers.Conv2D (same arguments, kernel and outputs) that convolves with the live
    part of its kernel when the input's static size leaves taps that only meet padding.

    Only 'same' padding (without padding every tap is live), channels_last, dilation 1 and a
    static spatial size are trimmed; anything else is keras.layers.Conv2D's own computation.
    """

    def trimmed(self, inputs, kernel):
        """(kernel slice, explicit padding) when some taps are dead, else None."""
        height, width = inputs.shape[1:3]
        if (
            self.padding != "same"
            or self.data_format != "channels_last"
            or height is None
            or width is None
            or tuple(self.dilation_rate) != (1, 1)
        ):
            return None
        axes = [
            live_taps(n, k, s) for n, k, s in zip((height, width), self.kernel_size, self.strides)
        ]
        if all(stop - first == k for (first, stop, _, _), k in zip(axes, self.kernel_size)):
            return None
        (top, bottom, pad_top, pad_bottom), (left, right, pad_left, pad_right) = axes
        padding = [[0, 0], [pad_top, pad_bottom], [pad_left, pad_right], [0, 0]]
        if not (pad_top or pad_bottom or pad_left or pad_right):
            padding = "VALID"
        return kernel[top:bottom, left:right], padding

    def convolution_op(self, inputs, kernel):
        """One ungrouped convolution, over the live taps when some are dead."""
        trimmed = self.trimmed(inputs, kernel)
        if trimmed is None:
            return super().convolution_op(inputs, kernel)
        live_kernel, padding = trimmed
        return tf.nn.conv2d(inputs, live_kernel, strides=[1, *self.strides, 1], padding=padding)
