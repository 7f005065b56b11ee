import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import pytest  # noqa: E402

import keras_classics  # noqa: E402

ALL_MODELS = keras_classics.list_models()
# Models whose full build takes long on 2 CPU cores: built once per test run anyway.
LARGE = {"resnet152", "resnext101_64x4d", "resnext101_32x8d",
         "inception_resnet_v2"}  # its .keras round trip: 23 s here


def model_params(names=ALL_MODELS):
    """pytest params over registry names, the largest marked slow."""
    return [pytest.param(n, marks=pytest.mark.slow) if n in LARGE else n for n in names]


@pytest.fixture(autouse=True)
def _fresh_keras_session():
    yield
    keras.backend.clear_session()
