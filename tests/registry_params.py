"""The registry as pytest parameters: every test over it covers a new model unchanged."""

import pytest

import keras_classics

ALL_MODELS = keras_classics.list_models()
# Models whose full build takes long on 2 CPU cores: built once per test run anyway.
LARGE = {"resnet152", "resnext101_64x4d", "resnext101_32x8d",
         "inception_resnet_v2"}  # its .keras round trip: 23 s here


def model_params(names=ALL_MODELS):
    """pytest params over registry names, the largest marked slow."""
    return [pytest.param(n, marks=pytest.mark.slow) if n in LARGE else n for n in names]
