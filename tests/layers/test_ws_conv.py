"""ScaledStdConv2D against NumPy's standardisation, its checks, a save/load round trip, and the
folded kernel its exports hold (SavedModel, TFLite builtins, ONNX) with no per-kernel moments."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_classics
from keras_classics import export
from keras_classics.export import graph_check, saved_model, tflite
from keras_classics.export import onnx as onnx_export
from keras_classics.layers import ScaledStdConv2D
from keras_classics.layers.activations import gelu
from keras_classics.layers.ws_conv import fold_standardized_kernels


def numpy_standardize(kernel, gain, gamma=1.0, epsilon=0.0):
    """W' = gamma gain (W - mean) / sqrt(max(N (var + epsilon), 1e-4)) per output channel
    (Brock et al. 2021; deepmind-research nfnets/base.py WSConv2D with epsilon 0), float64."""
    w = kernel.astype(np.float64).reshape(-1, kernel.shape[-1])
    n = w.shape[0]
    mean, var = w.mean(axis=0), w.var(axis=0)
    scale = gamma * gain / np.sqrt(np.maximum(n * (var + epsilon), 1e-4))
    return ((w - mean) * scale).reshape(kernel.shape)


@pytest.mark.parametrize(
    "kwargs", [dict(), dict(gamma=1.7015, epsilon=1e-5), dict(groups=2, strides=2)]
)
def test_convolves_with_the_standardised_kernel(kwargs):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 9, 9, 4)).astype("float32")
    layer = ScaledStdConv2D(6, 3, padding="same", **kwargs)
    layer.build(x.shape)
    kernel = rng.normal(0.3, 2.0, size=layer.kernel.shape).astype("float32")
    bias, gain = rng.normal(size=(2, 6)).astype("float32")
    layer.set_weights([kernel, bias, gain])
    standardised = numpy_standardize(
        kernel, gain, kwargs.get("gamma", 1.0), kwargs.get("epsilon", 0.0)
    )
    np.testing.assert_allclose(layer.standardized_kernel(), standardised, rtol=1e-5, atol=1e-6)
    plain = keras.layers.Conv2D(
        6, 3, padding="same", strides=kwargs.get("strides", 1), groups=kwargs.get("groups", 1)
    )
    plain.build(x.shape)
    plain.set_weights([standardised.astype("float32"), bias])
    np.testing.assert_allclose(np.asarray(layer(x)), np.asarray(plain(x)), rtol=1e-4, atol=1e-4)


def test_a_constant_kernel_meets_the_variance_floor():
    layer = ScaledStdConv2D(3, 1)
    layer.build((1, 2, 2, 2))
    layer.set_weights(
        [
            np.full((1, 1, 2, 3), 0.5, "float32"),
            np.arange(3, dtype="float32"),
            np.ones(3, "float32"),
        ]
    )
    out = np.asarray(layer(np.ones((1, 2, 2, 2), "float32")))
    np.testing.assert_array_equal(out, np.broadcast_to(np.arange(3, dtype="float32"), out.shape))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(gamma=0), r"gamma=0 is invalid"),
        (dict(gamma="1"), r"gamma='1' is invalid"),
        (dict(epsilon=-1e-5), r"epsilon=-1e-05 is invalid"),
        (dict(gain_init=True), r"gain_init=True is invalid"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ScaledStdConv2D(4, 3, **kwargs)


def _small_model(size=16):
    inputs = keras.Input((size, size, 3))
    x = ScaledStdConv2D(8, 3, strides=2, padding="same", epsilon=1e-5, name="conv1")(inputs)
    x = keras.layers.Activation(gelu, name="act")(x)
    x = ScaledStdConv2D(8, 3, padding="same", groups=2, gamma=1.7, name="conv2")(x)
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    model = keras.Model(inputs, keras.layers.Dense(5, name="predictions")(x), name="small")
    rng = np.random.default_rng(1)
    model.set_weights([rng.normal(0.1, 1.0, w.shape).astype("float32") for w in model.weights])
    return model


def test_keras_round_trip(tmp_path):
    model = _small_model()
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    layer = restored.get_layer("conv2")
    assert (type(layer), layer.gamma, layer.groups) == (ScaledStdConv2D, 1.7, 2)
    assert restored.get_layer("conv1").epsilon == 1e-5
    assert restored.get_layer("act").activation is gelu
    x = np.random.default_rng(2).normal(size=(1, 16, 16, 3)).astype("float32")
    np.testing.assert_array_equal(restored(x), model(x))


def test_fold_keeps_outputs_and_names_and_leaves_no_standardisation():
    model = _small_model()
    folded = fold_standardized_kernels(model)
    assert folded.name == "small"
    assert not any(isinstance(layer, ScaledStdConv2D) for layer in folded.layers)
    assert folded.get_layer("act") is model.get_layer("act")  # shared, not copied
    x = np.random.default_rng(3).normal(size=(2, 16, 16, 3)).astype("float32")
    np.testing.assert_allclose(folded(x), model(x), rtol=1e-5, atol=1e-5)
    plain = keras.Model(model.inputs, keras.layers.Dense(2)(model.inputs[0]))
    assert fold_standardized_kernels(plain) is plain


def test_gelu_is_keras_exact_gelu():
    x = np.linspace(-6, 6, 101).astype("float32")
    np.testing.assert_allclose(gelu(x), keras.activations.gelu(x), rtol=1e-6, atol=1e-6)


def _moment_ops(ops):
    return {op for op in ops if op.upper().replace("_", "") in ("SQUAREDDIFFERENCE", "RSQRT")}


def test_exports_hold_the_folded_kernel(tmp_path):
    """SavedModel and TFLite (builtins, float32 within 1e-4 of Keras) and ONNX run the folded
    kernels: no SquaredDifference or Rsqrt op (the layer's variance and scale), which the
    unfolded graph has (the check can fail)."""
    model = _small_model()
    spec = keras_classics.get_spec("nfnet_f0")
    x = np.random.default_rng(4).normal(size=(2, 16, 16, 3)).astype("float32")
    expected = np.asarray(model(x))
    unfolded = tf.function(lambda t: model(t, training=False)).get_concrete_function(
        tf.TensorSpec([None, 16, 16, 3], tf.float32)
    )
    assert _moment_ops(n.op for n in unfolded.graph.as_graph_def().node)
    classifier = export.Classifier(model, spec, class_names=list("abcde"))
    path = saved_model.write(classifier, str(tmp_path), config=False)
    assert not _moment_ops(graph_check.op_types(path))
    content = tflite.convert(classifier)
    ops = tflite.op_names(content)
    assert not _moment_ops(ops) and "CONV_2D" in ops, ops
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=content)
    interpreter.resize_tensor_input(interpreter.get_input_details()[0]["index"], x.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
    interpreter.invoke()
    logits = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    probabilities = tf.nn.softmax(expected).numpy()
    np.testing.assert_allclose(logits, probabilities, atol=1e-4)
    proto = onnx_export.convert_model(classifier)
    ops = {node.op_type for node in proto.graph.node}
    assert not _moment_ops(ops) and not {"Sqrt", "Reciprocal"} & ops, ops
    # The one ReduceMean is the global average pool.
    assert sum(node.op_type == "ReduceMean" for node in proto.graph.node) <= 1
    out = onnx_export.Runner(onnx_export.convert(classifier, model_proto=proto))(x)
    np.testing.assert_allclose(out, probabilities, atol=1e-4)
