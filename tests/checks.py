"""Numerical checks shared by the model tests, computed independently in NumPy (float64)."""

import numpy as np

# Smallest probability float32 holds well clear of its subnormals (~1.2e-38).
HELD = 1e-30


def log_softmax(logits):
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def assert_softmax_of(probabilities, logits):
    """`probabilities` (a model's float32 output) are the softmax of `logits` (float64).

    Compared as log-probabilities, where near-uniform outputs (random VGGs) would not hide a
    wrong head, within float32's precision at the logits' scale (random ResNet-101s give
    logits ~1e5); a class whose probability float32 cannot hold must have a log-softmax below
    log(HELD) too.
    """
    expected = log_softmax(np.asarray(logits, np.float64))
    p = np.asarray(probabilities, np.float64)
    assert p.shape == expected.shape, (p.shape, expected.shape)
    tol = 1e-4 * max(1.0, float(np.ptp(logits, axis=-1).max()))
    held = p > HELD
    assert held.any(axis=-1).all()
    np.testing.assert_allclose(np.log(p[held]), expected[held], rtol=0, atol=tol)
    assert (expected[~held] < np.log(HELD) + tol).all()


def _plain_attributes(layer):
    """The layer's public attributes of plain types (what its constructor arguments set)."""
    plain = (int, float, str, bool, tuple, type(None))
    return {
        k: v
        for k, v in vars(layer).items()
        if not k.startswith("_") and k != "built" and isinstance(v, plain)
    }


def layers_that_do_not_round_trip(model):
    """The layers of `model` whose Keras serialisation, through JSON and back in safe mode
    without custom_objects, is not the same layer: another class, another get_config(), or
    other plain public attributes (an argument that get_config() leaves out comes back as its
    default there). Layers equal but for their names are checked once."""
    import json

    import keras

    seen, bad = set(), []
    for layer in model.layers:
        config = keras.saving.serialize_keras_object(layer)
        key = json.dumps({**config, "config": {**config["config"], "name": None}}, sort_keys=True)
        if key in seen:
            continue
        seen.add(key)
        restored = keras.saving.deserialize_keras_object(
            json.loads(json.dumps(config)), safe_mode=True
        )
        if (
            type(restored) is not type(layer)
            or restored.get_config() != layer.get_config()
            or _plain_attributes(restored) != _plain_attributes(layer)
        ):
            bad.append(layer.name)
    return bad
