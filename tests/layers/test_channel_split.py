"""ChannelSplit against NumPy slicing, its checks, a save/load round trip and its TFLite ops."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_classics.layers import ChannelSplit


@pytest.mark.parametrize("sizes", [(3, 5), (4, 4), (2, 1, 5)])
def test_parts_match_numpy_slices(sizes):
    x = np.random.default_rng(0).normal(size=(2, 5, 6, 8)).astype("float32")
    parts = ChannelSplit(sizes)(x)
    bounds = np.cumsum((0,) + sizes)
    assert len(parts) == len(sizes)
    for part, start, stop in zip(parts, bounds[:-1], bounds[1:]):
        np.testing.assert_array_equal(np.asarray(part), x[..., start:stop])


def test_symbolic_shapes():
    parts = ChannelSplit((96, 32))(keras.Input((None, 7, 128)))
    assert [tuple(p.shape) for p in parts] == [(None, None, 7, 96), (None, None, 7, 32)]


@pytest.mark.parametrize("sizes", [(8,), (3, 0), (2.0, 6), "35", (True, 7)])
def test_bad_sizes(sizes):
    with pytest.raises(ValueError, match=r"ChannelSplit sizes=.* is invalid; accepted"):
        ChannelSplit(sizes)


def test_sizes_must_add_up_to_the_channels():
    with pytest.raises(ValueError, match=r"add up to 9 channels, but the input has 8"):
        ChannelSplit((4, 5))(keras.Input((4, 4, 8)))


def _small_model():
    inputs = keras.Input((6, 6, 8))
    a, b = ChannelSplit((6, 2), name="split")(inputs)
    outputs = keras.layers.Concatenate(name="cat")([keras.layers.ReLU(name="relu")(a), b * 2.0])
    return keras.Model(inputs, outputs)


def test_keras_round_trip(tmp_path):
    model = _small_model()
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    assert restored.get_layer("split").sizes == (6, 2)
    x = np.random.default_rng(1).normal(size=(1, 6, 6, 8)).astype("float32")
    np.testing.assert_array_equal(restored(x), model(x))


def test_tflite_builtin_ops(tmp_path):
    model = _small_model()
    x = np.random.default_rng(2).normal(size=(1, 6, 6, 8)).astype("float32")
    model.export(str(tmp_path / "sm"), format="tf_saved_model", verbose=False)
    converter = tf.lite.TFLiteConverter.from_saved_model(str(tmp_path / "sm"))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]  # no Flex ops
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=converter.convert())
    ops = {op["op_name"] for op in interpreter._get_ops_details()}
    assert "SPLIT_V" in ops and all(n.isupper() and not n.startswith("FLEX") for n in ops), ops
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
    interpreter.invoke()
    out = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    np.testing.assert_allclose(out, np.asarray(model(x)), atol=1e-6)
