import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# As train/main.py: oneDNN kernels on (TensorFlow leaves them off on CPUs without
# AVX512-VNNI, where training steps are ~4x slower), so the tests run what the main job runs.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

import keras  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_keras_session():
    yield
    keras.backend.clear_session()
