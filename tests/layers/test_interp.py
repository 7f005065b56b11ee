"""Interp against a NumPy transcription of Caffe's Interp (align corners), its checks, a
save/load round trip and its exports: SavedModel, TFLite's builtin RESIZE_BILINEAR with
align_corners, ONNX (tf2onnx)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_classics.layers import Interp


def caffe_interp(x, height, width):
    """Caffe's caffe_cpu_interp2 (the Interp layer of DeepLab's Caffe, which the Residual
    Attention release uses), channels last: output row h2 reads input row h1 = int(h2 * rheight)
    and the next one (h1p), weighted by the fraction; rheight = (H1 - 1) / (H2 - 1), 0 for
    H2 = 1; columns alike."""
    n, h1_size, w1_size, c = x.shape
    rheight = (h1_size - 1) / (height - 1) if height > 1 else 0.0
    rwidth = (w1_size - 1) / (width - 1) if width > 1 else 0.0
    out = np.zeros((n, height, width, c), np.float64)
    for h2 in range(height):
        h1r = rheight * h2
        h1 = int(h1r)
        h1p = 1 if h1 < h1_size - 1 else 0
        h1lambda = h1r - h1
        h0lambda = 1.0 - h1lambda
        for w2 in range(width):
            w1r = rwidth * w2
            w1 = int(w1r)
            w1p = 1 if w1 < w1_size - 1 else 0
            w1lambda = w1r - w1
            w0lambda = 1.0 - w1lambda
            out[:, h2, w2] = h0lambda * (
                w0lambda * x[:, h1, w1] + w1lambda * x[:, h1, w1 + w1p]
            ) + h1lambda * (w0lambda * x[:, h1 + h1p, w1] + w1lambda * x[:, h1 + h1p, w1 + w1p])
    return out


RNG = np.random.default_rng(0)
# (input side, output side): the mask branch's 7 -> 14 -> 28 -> 56 at 224, odd sides of other
# inputs, a 1-row input and output, a down-sampling and an equal size.
SIZES = [
    ((7, 7), (14, 14)),
    ((4, 5), (9, 10)),
    ((1, 3), (2, 6)),
    ((5, 4), (1, 7)),
    ((9, 9), (4, 6)),
    ((6, 6), (6, 6)),
]


@pytest.mark.parametrize("dtype, tol", [("float32", 1e-5), ("float64", 1e-12)])
@pytest.mark.parametrize("size_in, size_out", SIZES)
def test_matches_caffe_interp(size_in, size_out, dtype, tol):
    x = RNG.normal(size=(2, *size_in, 3)).astype(dtype)
    reference = np.zeros((2, *size_out, 1), dtype)
    out = Interp(dtype=dtype)([x, reference])
    assert out.dtype == dtype and tuple(out.shape) == (2, *size_out, 3)
    np.testing.assert_allclose(np.asarray(out), caffe_interp(x, *size_out), atol=tol, rtol=0)


def test_keras_bilinear_up_sampling_differs():
    """UpSampling2D's half-pixel centres give other values: the reason for the layer."""
    x = RNG.normal(size=(1, 7, 7, 2)).astype("float32")
    ours = np.asarray(Interp()([x, np.zeros((1, 14, 14, 1), "float32")]))
    half_pixel = np.asarray(keras.layers.UpSampling2D(2, interpolation="bilinear")(x))
    assert np.abs(ours - half_pixel).max() > 1e-2


def test_half_precision_keeps_its_dtype():
    x = RNG.normal(size=(1, 3, 3, 2)).astype("float16")
    out = Interp(dtype="mixed_float16")([x, np.zeros((1, 5, 5, 1), "float16")])
    assert out.dtype == "float16"
    np.testing.assert_allclose(np.asarray(out, np.float64), caffe_interp(x, 5, 5), atol=2e-2)


def test_symbolic_shapes():
    out = Interp()([keras.Input((None, None, 8)), keras.Input((14, 12, 3))])
    assert tuple(out.shape) == (None, 14, 12, 8)
    out = Interp()([keras.Input((7, 7, 8)), keras.Input((None, None, 3))])
    assert tuple(out.shape) == (None, None, None, 8)


def test_unknown_sizes_follow_the_reference_at_run_time():
    x, ref = keras.Input((None, None, 2)), keras.Input((None, None, 1))
    model = keras.Model([x, ref], Interp()([x, ref]))
    a = RNG.normal(size=(1, 4, 3, 2)).astype("float32")
    out = np.asarray(model([a, np.zeros((1, 7, 5, 1), "float32")]))
    np.testing.assert_allclose(out, caffe_interp(a, 7, 5), atol=1e-5)


@pytest.mark.parametrize(
    "shapes", [[(4, 4, 2)], [(4, 4, 2), (4, 4, 2), (4, 4, 2)], [(4, 2), (4, 4, 2)]]
)
def test_bad_inputs(shapes):
    with pytest.raises(ValueError, match=r"Interp input_shape=.* is invalid; accepted"):
        Interp()([keras.Input(s) for s in shapes])


def _small_model():
    inputs = keras.Input((12, 12, 4))
    low = keras.layers.MaxPooling2D(2, name="pool")(inputs)
    up = Interp(name="interp")([low, inputs])
    return keras.Model(inputs, keras.layers.Add(name="sum")([up, inputs]))


X = RNG.normal(size=(1, 12, 12, 4)).astype("float32")


def _reference(model):
    low = np.asarray(model.get_layer("pool")(X))
    return caffe_interp(low, 12, 12) + X


def test_keras_round_trip(tmp_path):
    model = _small_model()
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    assert isinstance(restored.get_layer("interp"), Interp)
    np.testing.assert_array_equal(restored(X), model(X))


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    model = _small_model()
    path = str(tmp_path_factory.mktemp("interp") / "sm")
    model.export(path, format="tf_saved_model", verbose=False)
    return model, path


def test_saved_model(saved_model):
    model, path = saved_model
    out = tf.saved_model.load(path).serve(tf.constant(X))
    np.testing.assert_allclose(np.asarray(out), _reference(model), atol=1e-5)


def test_tflite_resize_bilinear_with_align_corners(saved_model):
    model, path = saved_model
    converter = tf.lite.TFLiteConverter.from_saved_model(path)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]  # no Flex ops
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=converter.convert())
    ops = {op["op_name"] for op in interpreter._get_ops_details()}
    assert "RESIZE_BILINEAR" in ops and all(n.isupper() and not n.startswith("FLEX") for n in ops)
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], X)
    interpreter.invoke()
    out = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    np.testing.assert_allclose(out, _reference(model), atol=1e-4)


def test_onnx_resize_aligns_corners():
    pytest.importorskip("tf2onnx", reason="the onnx extra: pip install -e '.[onnx]'")
    import onnxruntime

    from keras_classics.export import onnx as onnx_export

    model = _small_model()
    spec = tf.TensorSpec((None, *X.shape[1:]), tf.float32, name="input")
    proto = onnx_export._convert(lambda t: {"output": model(t)}, [spec])
    resizes = [n for n in proto.graph.node if n.op_type == "Resize"]
    assert resizes, [n.op_type for n in proto.graph.node]
    modes = {
        a.s for n in resizes for a in n.attribute if a.name == "coordinate_transformation_mode"
    }
    assert modes == {b"align_corners"}
    out = onnxruntime.InferenceSession(proto.SerializeToString()).run(None, {"input": X})[0]
    np.testing.assert_allclose(out, _reference(model), atol=1e-4)
