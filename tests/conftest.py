import collections
import gc
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# As train/main.py: oneDNN kernels on (TensorFlow leaves them off on CPUs without
# AVX512-VNNI, where training steps are ~4x slower), so the tests run what the main job runs.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
# Nothing in the suite may download weights (tests/pretrained serve theirs on 127.0.0.1, and
# lift this for their own cache).
os.environ.setdefault("KERAS_CLASSICS_OFFLINE", "1")

import keras
import pytest

import keras_classics


def pytest_collection_finish(session):
    # Every test ends in keras.backend.clear_session(), whose gc.collect() walks every object
    # in the process: with TensorFlow, torch and the test modules loaded, 1.4 s a test, 388 s
    # of a 23.5-minute run (measured here). What is alive after collection lives for the whole
    # run: frozen, it is left out of every later collection, which then walks only what the
    # tests made.
    gc.collect()
    gc.freeze()


# The default_model parameters alive now (at most one).
_HELD = set()


@pytest.fixture(autouse=True, scope="module")
def _freeze_after_module():
    yield
    # What a module leaves alive (session fixtures, module globals, TensorFlow's function
    # registry) is frozen as well, so that later collections do not walk it (by the end of the
    # run 0.08 s a test otherwise). Not while a shared default_model is held: frozen, it could
    # not be freed when it is dropped.
    if not _HELD:
        gc.collect()
        gc.freeze()


@pytest.fixture(autouse=True)
def _fresh_keras_session():
    yield
    # Resets Keras' name counters and frees what the test built; a model held by a fixture
    # (default_model) keeps working, it is only Python objects.
    keras.backend.clear_session()


Built = collections.namedtuple("Built", "name options model")


@pytest.fixture(scope="session")
def default_model(request):
    """The model an indirect parameter names (registry_params.built): the registry's default
    build of `name`, with `options` if any, built once for every test, in any module, that
    asks for the same parameter. pytest runs those tests one after another and tears the
    model down before it builds the next parameter's, so one full-size model is alive at a
    time."""
    name, options = request.param
    _HELD.add(request.param)
    yield Built(name, dict(options), keras_classics.get_model(name, **dict(options)))
    _HELD.discard(request.param)


@pytest.fixture(scope="session")
def exported_kinds():
    """{name: kinds} of what tests/export exports for each representative (export_cover)."""
    import export_cover

    out = {}
    for name in export_cover.EXPORTED:
        out[name] = export_cover.kinds(export_cover.build_for_export(name)[0])
        keras.backend.clear_session()
    return out
