"""Every registered model, against independent references (tests/references.py)."""

import numpy as np
import pytest

import keras_classics
from keras_classics.analysis import count_macs
from registry_params import ALL_MODELS, model_params
from references import FEATURE_WIDTH, GMACS, TRAINABLE_PARAMS, VARIANT_PARAMS


def trainable(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def test_every_model_has_independent_references():
    assert set(ALL_MODELS) <= set(TRAINABLE_PARAMS), set(ALL_MODELS) - set(TRAINABLE_PARAMS)
    assert set(ALL_MODELS) <= set(FEATURE_WIDTH), set(ALL_MODELS) - set(FEATURE_WIDTH)


@pytest.mark.parametrize("name", model_params())
def test_default_build_matches_reference(name):
    spec = keras_classics.get_spec(name)
    model = keras_classics.get_model(name)
    size = spec.default_size
    assert model.name == name
    assert tuple(model.input_shape) == (None, size, size, 3)
    assert trainable(model) == TRAINABLE_PARAMS[name]
    assert tuple(model.output_shape) == (None, 1000)
    x = np.random.default_rng(0).uniform(-1, 1, (1, size, size, 3)).astype("float32")
    probs = np.asarray(model(x, training=False))
    assert probs.shape == (1, 1000)
    np.testing.assert_allclose(probs.sum(), 1.0, rtol=1e-4)
    assert (probs >= 0).all()


@pytest.mark.parametrize("name,kwargs,expected", VARIANT_PARAMS)
def test_variant_params(name, kwargs, expected):
    assert trainable(keras_classics.get_model(name, **kwargs)) == expected


@pytest.mark.parametrize("name", model_params())
def test_headless_features_and_keras_round_trip(name, tmp_path):
    spec = keras_classics.get_spec(name)
    size = max(spec.min_size, 64)
    model = keras_classics.get_model(name, include_top=False, pooling="avg",
                                     input_shape=(size, size, 3))
    assert tuple(model.output_shape) == (None, FEATURE_WIDTH[name])
    x = np.random.default_rng(1).uniform(-1, 1, (2, size, size, 3)).astype("float32")
    expected = np.asarray(model(x, training=False))
    path = tmp_path / f"{name}.keras"
    model.save(path)
    import keras
    restored = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(np.asarray(restored(x, training=False)), expected,
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", model_params())
def test_max_pooling_and_unknown_size(name):
    model = keras_classics.get_model(name, include_top=False, pooling="max")
    assert tuple(model.input_shape) == (None, None, None, 3)
    assert tuple(model.output_shape) == (None, FEATURE_WIDTH[name])


@pytest.mark.parametrize("name,gmacs", sorted(GMACS.items()))
def test_multiply_adds_match_papers(name, gmacs):
    measured = count_macs(keras_classics.get_model(name)) / 1e9
    assert abs(measured - gmacs) / gmacs <= 0.03, (measured, gmacs)


@pytest.mark.parametrize("name", ["resnet18", "resnext50_32x4d", "vgg11", "inception_v3"])
def test_initialisation_is_seeded_and_layers_differ(name):
    """keras.utils.set_random_seed makes builds repeatable, and no two layers share initial
    weights (a shared Keras initializer object would repeat its values)."""
    import keras
    kernels = []
    for _ in range(2):
        keras.utils.set_random_seed(7)
        model = keras_classics.get_model(name, include_top=False, input_shape=(75, 75, 3))
        kernels.append([w.numpy() for w in model.weights if w.name == "kernel"])
    for a, b in zip(*kernels):
        np.testing.assert_array_equal(a, b)
    by_shape = {}
    for k in kernels[0]:
        by_shape.setdefault(k.shape, []).append(k)
    for same_shape in by_shape.values():
        for i in range(1, len(same_shape)):
            assert not np.array_equal(same_shape[0], same_shape[i])
