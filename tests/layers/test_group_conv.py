"""GroupConv2D against independent computations: per-group NumPy convolution, a dense conv with
a block-diagonal kernel (gradients), and Keras' own Conv2D(groups=...) (forward)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from conv_reference import numpy_conv
from keras_classics.layers import GroupConv2D


def grouped_reference(x, kernel, bias, groups, **kw):
    cin, cout = kernel.shape[2], kernel.shape[3] // groups
    return (
        np.concatenate(
            [
                numpy_conv(
                    x[..., g * cin : (g + 1) * cin], kernel[..., g * cout : (g + 1) * cout], **kw
                )
                for g in range(groups)
            ],
            -1,
        )
        + bias
    )


def block_diagonal(kernel, groups):
    kh, kw, cin, cout = kernel.shape
    dense = np.zeros((kh, kw, cin * groups, cout), kernel.dtype)
    step = cout // groups
    for g in range(groups):
        dense[:, :, g * cin : (g + 1) * cin, g * step : (g + 1) * step] = kernel[
            ..., g * step : (g + 1) * step
        ]
    return dense


CASES = [
    dict(filters=16, kernel_size=3, groups=4, strides=1, padding="same"),
    dict(filters=32, kernel_size=3, groups=8, strides=2, padding="same"),
    dict(filters=12, kernel_size=5, groups=2, strides=2, padding="valid"),
    dict(filters=8, kernel_size=3, groups=4, strides=1, padding="same", dilation_rate=2),
]


@pytest.mark.parametrize("case", CASES)
def test_forward_matches_per_group_numpy(case):
    x = np.random.default_rng(0).normal(size=(2, 11, 11, 16)).astype("float32")
    layer = GroupConv2D(bias_initializer="random_normal", **case)
    out = np.asarray(layer(x))
    ref = grouped_reference(
        x,
        layer.kernel.numpy(),
        layer.bias.numpy(),
        case["groups"],
        stride=case["strides"],
        padding=case["padding"],
        dilation=case.get("dilation_rate", 1),
    )
    assert layer.kernel.shape == (case["kernel_size"],) * 2 + (
        16 // case["groups"],
        case["filters"],
    )
    np.testing.assert_allclose(out, ref, atol=1e-4)
    assert layer.compute_output_shape(x.shape) == out.shape


def test_forward_matches_keras_grouped_conv():
    x = np.random.default_rng(1).normal(size=(2, 9, 9, 32)).astype("float32")
    ours = GroupConv2D(64, 3, groups=32, padding="same")
    theirs = keras.layers.Conv2D(64, 3, groups=32, padding="same")
    ours.build(x.shape)
    theirs.build(x.shape)
    theirs.set_weights(ours.get_weights())
    np.testing.assert_allclose(ours(x), theirs(x), atol=1e-4)


def test_gradients_in_graph_match_block_diagonal_dense_conv():
    groups = 4
    x = tf.constant(np.random.default_rng(2).normal(size=(2, 8, 8, 16)).astype("float32"))
    layer = GroupConv2D(16, 3, groups=groups, strides=2, padding="same")
    layer.build(x.shape)
    dense_kernel = tf.Variable(block_diagonal(layer.kernel.numpy(), groups))

    @tf.function
    def grads():
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(x)
            ours = tf.reduce_sum(tf.sin(layer(x)))
            dense = tf.reduce_sum(tf.sin(tf.nn.conv2d(x, dense_kernel, 2, "SAME") + layer.bias))
        return (tape.gradient(ours, [x, layer.kernel]), tape.gradient(dense, [x, dense_kernel]))

    (dx, dk), (dx_ref, dk_ref) = grads()
    np.testing.assert_allclose(dx, dx_ref, atol=1e-4)
    diagonal = block_diagonal(dk.numpy(), groups)
    mask = block_diagonal(np.ones_like(dk.numpy()), groups) > 0
    np.testing.assert_allclose(diagonal[mask], dk_ref.numpy()[mask], atol=1e-4)


def test_trains_with_fit_on_cpu():
    """The failure mode of a single grouped tf.nn.conv2d: model.fit on CPU (see layer doc)."""
    rng = np.random.default_rng(3)
    inputs = keras.Input((8, 8, 16))
    h = GroupConv2D(16, 3, groups=4, padding="same", name="g")(inputs)
    h = keras.layers.BatchNormalization()(h)
    h = keras.layers.ReLU()(h)
    outputs = GroupConv2D(16, 3, groups=4, padding="same", use_bias=False)(h)
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.SGD(0.1), "mse")
    x = rng.normal(size=(16, 8, 8, 16)).astype("float32")
    y = rng.normal(size=(16, 8, 8, 16)).astype("float32")
    before = model.get_layer("g").kernel.numpy().copy()
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=0).history["loss"]
    assert history[-1] < history[0]
    assert not np.allclose(model.get_layer("g").kernel.numpy(), before)


def _small_model():
    inputs = keras.Input((10, 10, 8))
    outputs = GroupConv2D(8, 3, groups=2, padding="same", name="g")(inputs)
    return keras.Model(inputs, outputs)


def test_keras_round_trip(tmp_path):
    model = _small_model()
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    assert restored.get_layer("g").groups == 2
    x = np.random.default_rng(4).normal(size=(1, 10, 10, 8)).astype("float32")
    np.testing.assert_allclose(restored(x), model(x), atol=1e-6)


def test_saved_model_and_tflite_builtin_ops(tmp_path):
    model = _small_model()
    x = np.random.default_rng(5).normal(size=(1, 10, 10, 8)).astype("float32")
    expected = np.asarray(model(x))
    model.export(str(tmp_path / "sm"), format="tf_saved_model", verbose=False)
    loaded = tf.saved_model.load(str(tmp_path / "sm"))
    np.testing.assert_allclose(loaded.serve(x), expected, atol=1e-5)

    converter = tf.lite.TFLiteConverter.from_saved_model(str(tmp_path / "sm"))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]  # no Flex ops
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=converter.convert())
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
    interpreter.invoke()
    out = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    np.testing.assert_allclose(out, expected, atol=1e-5)
