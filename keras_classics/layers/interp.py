"""Bilinear up-sampling to another tensor's size with aligned corners: Caffe's `Interp` layer,
with which the Residual Attention Network release (fwang91/residual-attention-network,
imagenet_model/*.prototxt) up-samples its mask branch (Wang et al. 2017, section 3.3)."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="keras_classics")
class Interp(keras.layers.Layer):
    """Resizes `x` to the height and width of `reference`, bilinearly with aligned corners:
    called on [x, reference], returns (batch, ref_height, ref_width, x_channels).

    Caffe's Interp (with two bottoms: the size of the second) maps output row i to input row
    i * (in - 1) / (out - 1) (0 where out is 1), the corners onto the corners, and interpolates
    between the two rows around it (columns alike). That is TensorFlow's ResizeBilinear with
    align_corners=True and half_pixel_centers=False (TFLite's builtin RESIZE_BILINEAR with
    align_corners, ONNX's Resize "align_corners"). Keras' UpSampling2D and Resizing use half-pixel
    centres and give other values.

    ResizeBilinear returns float32 whatever its input; a float16/bfloat16 result is cast back to
    the input's dtype. Float64 inputs take the same formula as two interpolation matrices (the
    kernel would round them to float32).
    """

    def build(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) != 2:
            raise ValueError(
                f"Interp input_shape={input_shape!r} is invalid; accepted: two 4D shapes, "
                "[x, reference], channels last."
            )
        if any(len(shape) != 4 for shape in input_shape):
            raise ValueError(
                f"Interp input_shape={input_shape!r} is invalid; accepted: two 4D shapes "
                "(batch, height, width, channels), [x, reference]."
            )

    def call(self, inputs):
        x, reference = inputs
        size = _spatial(reference)
        if x.dtype == tf.float64:
            return _matrix_resize(x, size)
        resized = tf.compat.v1.image.resize_bilinear(x, size, align_corners=True)
        return tf.cast(resized, x.dtype)

    def compute_output_shape(self, input_shape):
        x, reference = input_shape
        return (x[0], reference[1], reference[2], x[3])


def _spatial(tensor):
    """(height, width) of `tensor`: Python ints where they are known (a constant size in the
    exported graph), else from its dynamic shape."""
    static = tensor.shape[1:3]
    if all(d is not None for d in static):
        return list(static)
    return tf.shape(tensor)[1:3]


def _weights(size_in, size_out, dtype):
    """(size_out, size_in) matrix of Caffe's align-corners interpolation along one axis."""
    size_in_f = tf.cast(size_in, dtype)
    size_out_f = tf.cast(size_out, dtype)
    scale = tf.where(size_out > 1, (size_in_f - 1) / tf.maximum(size_out_f - 1, 1), 0)
    source = tf.cast(tf.range(size_out), dtype) * scale
    low = tf.minimum(tf.cast(tf.floor(source), tf.int32), size_in - 1)
    high = tf.minimum(low + 1, size_in - 1)
    fraction = source - tf.cast(low, dtype)
    return (
        tf.one_hot(low, size_in, dtype=dtype) * (1 - fraction)[:, None]
        + tf.one_hot(high, size_in, dtype=dtype) * fraction[:, None]
    )


def _matrix_resize(x, size):
    shape = tf.shape(x)
    rows = _weights(shape[1], size[0], x.dtype)
    cols = _weights(shape[2], size[1], x.dtype)
    return tf.einsum("oh,nhwc,pw->nopc", rows, x, cols)
