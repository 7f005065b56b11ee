"""The registry as pytest parameters: every test over it covers a new model unchanged."""

import pytest

import keras_classics

ALL_MODELS = keras_classics.list_models()
# Models whose full build or export takes long on 2 CPU cores: left out of the quick loop
# (`-m "not slow"`); CI runs them.
LARGE = {
    "resnet101",
    "resnet152",
    "resnext101_32x4d",
    "resnext101_64x4d",
    "resnext101_32x8d",
    "inception_v4",
    "inception_resnet_v2",
}


def model_params(names=ALL_MODELS):
    """pytest params over registry names, the largest marked slow."""
    return [pytest.param(n, marks=pytest.mark.slow) if n in LARGE else n for n in names]


def built(name, *values, **options):
    """An indirect parameter of the `default_model` fixture (conftest.py), followed by the
    test's other parameter `values`: `name` built by the registry with `options`; tests
    sharing a parameter share one build."""
    key = (name, tuple(sorted(options.items())))
    label = name + "".join(f"-{k}={v}" for k, v in sorted(options.items()))
    return pytest.param(key, *values, id=label, marks=[pytest.mark.slow] if name in LARGE else [])


def default_size(name):
    return keras_classics.get_spec(name).input.size
