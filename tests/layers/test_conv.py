"""keras_classics' Conv2D, which convolves with the live part of its kernel when some taps only
meet padding: outputs against a direct NumPy convolution, kernel gradients against
keras.layers.Conv2D's, and the trimmed computation against the graph it runs."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from conv_reference import numpy_conv
from keras_classics.layers import Conv2D, GroupConv2D

# (input side, kernel, stride, padding): small maps where taps are dead (the first five) and
# ordinary ones where none is (the layer must then be keras.layers.Conv2D's computation).
CASES = [
    (1, 3, 1, "same"),  # ResNet's last stage at 32 px: the centre tap alone
    (1, 7, 2, "same"),
    (2, 3, 2, "same"),  # TF pads after: the top-left 2x2 taps
    (2, 5, 1, "same"),
    (3, 7, 1, "same"),
    (5, 3, 1, "same"),
    (6, 3, 2, "valid"),
]


@pytest.mark.parametrize("size,kernel,stride,padding", CASES)
def test_outputs_and_kernel_gradient_match_keras_conv(size, kernel, stride, padding):
    rng = np.random.default_rng(size * 100 + kernel)
    x = tf.constant(rng.normal(size=(3, size, size + 1, 4)).astype("float32"))
    ours = Conv2D(6, kernel, strides=stride, padding=padding, bias_initializer="random_normal")
    keras_conv = keras.layers.Conv2D(6, kernel, strides=stride, padding=padding)
    ours.build(x.shape)
    keras_conv.build(x.shape)
    keras_conv.set_weights(ours.get_weights())

    @tf.function
    def outputs_and_gradients(layer):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x)
            loss = tf.reduce_sum(tf.sin(y))
        return y, tape.gradient(loss, [x, layer.kernel])

    y, (dx, dk) = outputs_and_gradients(ours)
    y_ref, (dx_ref, dk_ref) = outputs_and_gradients(keras_conv)
    reference = numpy_conv(x.numpy(), ours.kernel.numpy(), stride, padding) + ours.bias.numpy()
    np.testing.assert_allclose(y, reference, atol=1e-5)
    np.testing.assert_allclose(dx, dx_ref, atol=1e-5)
    np.testing.assert_allclose(dk, dk_ref, atol=1e-5)


def conv_filter_shapes(layer, x):
    graph = tf.function(layer).get_concrete_function(x).graph
    return [tuple(op.inputs[1].shape) for op in graph.get_operations() if op.type == "Conv2D"]


@pytest.mark.parametrize(
    "size,kernel,stride,filter_shape",
    [
        (1, 3, 1, (1, 1, 4, 6)),
        (2, 3, 2, (2, 2, 4, 6)),
        (1, 7, 2, (1, 1, 4, 6)),
        (8, 3, 1, (3, 3, 4, 6)),
    ],
)
def test_dead_taps_are_left_out_of_the_computation(size, kernel, stride, filter_shape):
    layer = Conv2D(6, kernel, strides=stride, padding="same")
    x = tf.TensorSpec((2, size, size, 4))
    assert conv_filter_shapes(layer, x) == [filter_shape]


def test_grouped_conv_trims_each_group():
    layer = GroupConv2D(8, 3, groups=4, padding="same")
    x = tf.TensorSpec((2, 1, 1, 8))
    assert conv_filter_shapes(layer, x) == [(1, 1, 2, 2)] * 4


def test_resnet18_at_32_pixels_trims_its_last_stage():
    """The case the layer exists for: ResNet-18's stage-5 3x3 convs see 1x1 maps at 32 px."""
    import keras_classics

    model = keras_classics.get_model("resnet18", classes=10, input_shape=(32, 32, 3))
    graph = tf.function(model).get_concrete_function(tf.TensorSpec((1, 32, 32, 3))).graph
    shapes = [tuple(op.inputs[1].shape[:2]) for op in graph.get_operations() if op.type == "Conv2D"]
    # ResNet-18: a 7x7 stem, sixteen 3x3 convs and three 1x1 projections. At 32 px the last
    # stage runs on 1x1 maps: its three stride-1 3x3 convs become 1x1 ones; its first conv
    # (stride 2, on the explicitly zero-padded 2x2 map) keeps its 3x3 kernel.
    assert (shapes.count((7, 7)), shapes.count((3, 3)), shapes.count((1, 1))) == (1, 13, 6)
