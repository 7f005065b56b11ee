"""SqueezeExcite against a NumPy transcription of Hu et al. 2018, eqs. 2-4 (its conversions from
torchvision's and keras.applications' forms: tests/convert/test_squeeze_excite_layouts.py)."""

import keras
import numpy as np
import pytest

from keras_classics.layers import SqueezeExcite


def numpy_gates(name, z):
    return {
        "relu": lambda v: np.maximum(v, 0.0),
        "sigmoid": lambda v: 1.0 / (1.0 + np.exp(-v)),
        # MobileNetV3 (Howard et al. 2019, eq. for h-swish): ReLU6(x + 3) / 6
        "hard_sigmoid": lambda v: np.clip(v + 3.0, 0.0, 6.0) / 6.0,
        "silu": lambda v: v / (1.0 + np.exp(-v)),
    }[name](z)


def se_reference(x, w1, b1, w2, b2, activation, gate):
    z = x.astype(np.float64).mean(axis=(1, 2))  # squeeze, eq. 2
    s = numpy_gates(gate, numpy_gates(activation, z @ w1 + b1) @ w2 + b2)  # excitation, eq. 3
    return x * s[:, None, None, :]  # scale, eq. 4


def randomised(layer, shape, seed=0):
    rng = np.random.default_rng(seed)
    if not layer.built:
        layer.build(shape)
    layer.set_weights([rng.normal(size=w.shape).astype("float32") for w in layer.weights])
    return layer


@pytest.mark.parametrize(
    ("activation", "gate"), [("relu", "sigmoid"), ("relu", "hard_sigmoid"), ("silu", "sigmoid")]
)
def test_matches_numpy_equations(activation, gate):
    x = np.random.default_rng(1).normal(size=(3, 5, 6, 16)).astype("float32")
    layer = randomised(SqueezeExcite(4, activation=activation, gate=gate), x.shape)
    out = np.asarray(layer(x))
    ref = se_reference(x, *layer.get_weights(), activation, gate)
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)
    # the gates differ per example and channel (the check is not passed by a constant)
    ratios = out / x
    assert ratios.std(axis=0).max() > 1e-2 and ratios.std(axis=-1).max() > 1e-2
    assert [w.shape for w in layer.weights] == [(16, 4), (4,), (4, 16), (16,)]


def test_keras_round_trip(tmp_path):
    inputs = keras.Input((6, 6, 8))
    model = keras.Model(inputs, SqueezeExcite(2, gate="hard_sigmoid", name="se")(inputs))
    randomised(model.get_layer("se"), (None, 6, 6, 8))
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    x = np.random.default_rng(5).normal(size=(2, 6, 6, 8)).astype("float32")
    np.testing.assert_array_equal(restored(x), model(x))
    assert restored.get_layer("se").get_config() == model.get_layer("se").get_config()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"reduced_channels": 0}, "reduced_channels=0"),
        ({"reduced_channels": 2.5}, "reduced_channels=2.5"),
        ({"reduced_channels": 4, "gate": "softmax"}, "gate='softmax'"),
        ({"reduced_channels": 4, "activation": "tanhh"}, "activation='tanhh'"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        SqueezeExcite(**kwargs)
