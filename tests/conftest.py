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


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    # Under `pytest -n 2 --dist loadgroup` (the README's test command) each worker makes the
    # module fixtures of the tests it runs: a test that uses a fixture of its own module's
    # scope joins its module's xdist group, so that one worker runs them all and the fixture
    # (a model trained, built or exported) is made once. Tests already in a group (a model's,
    # registry_params) stay there. tryfirst: before xdist reads the groups.
    for item in items:
        if item.get_closest_marker("xdist_group"):
            continue
        module = item.nodeid.split("::")[0]
        definitions = item._fixtureinfo.name2fixturedefs.values()
        if any(d[-1].scope == "module" and d[-1].baseid == module for d in definitions):
            item.add_marker(pytest.mark.xdist_group(module))


# {default_model parameter: its model}: at most one alive at a time.
_MODELS = {}


@pytest.fixture(autouse=True, scope="module")
def _freeze_after_module():
    yield
    # What a module leaves alive (session fixtures, module globals, TensorFlow's function
    # registry) is frozen as well, so that later collections do not walk it (by the end of the
    # run 0.08 s a test otherwise). Not while a shared default_model is alive: frozen, it could
    # not be freed when it is dropped.
    if not _MODELS:
        gc.collect()
        gc.freeze()


@pytest.fixture(autouse=True)
def _fresh_keras_session():
    yield
    # Resets Keras' name counters and frees what the test built; a model held by a fixture
    # (default_model) keeps working, it is only Python objects.
    keras.backend.clear_session()


class Built:
    """What `default_model` gives a test: `name`'s default build by the registry, with
    `options`, built when a test first asks for `model`; unpacks as (name, options, model)."""

    def __init__(self, parameter):
        self.parameter = parameter
        self.name, options = parameter
        self.options = dict(options)

    @property
    def model(self):
        if self.parameter not in _MODELS:
            _MODELS.clear()
            _MODELS[self.parameter] = keras_classics.get_model(self.name, **self.options)
        return _MODELS[self.parameter]

    def __iter__(self):
        return iter((self.name, self.options, self.model))


@pytest.fixture(scope="session")
def default_model(request):
    """The model an indirect parameter names (registry_params.built), built once for the
    tests, in any module, that ask for the same parameter: pytest runs them one after
    another, and the model is dropped after the last of them (pytest_runtest_teardown below),
    so one full-size model is alive at a time."""
    return Built(request.param)


def _model_parameter(item):
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("default_model") if callspec else None


class _ModelOrder:
    """pytest orders a session fixture's tests by the parameter's *index* in each parametrize
    list, not by its value: test_multiply_adds_match_papers' i-th model (of sorted(GMACS))
    ran beside the i-th model of the registry's list, away from its own model's other tests,
    and built its model again (CONTRIBUTING.md, CI time). Each model's tests now follow the
    first of them; the other tests keep their places. A plugin of its own: it must run after
    pytest's ordering (trylast), where the xdist groups above must be set before it."""

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items):
        runs, by_model = [], {}
        for item in items:
            parameter = _model_parameter(item)
            if parameter is None:
                runs.append([item])
            elif parameter in by_model:
                by_model[parameter].append(item)
            else:
                by_model[parameter] = [item]
                runs.append(by_model[parameter])
        items[:] = [item for run in runs for item in run]


def pytest_configure(config):
    config.pluginmanager.register(_ModelOrder(), "keras_classics_model_order")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item, nextitem):
    # pytest keeps a session fixture's value until a test asks for another parameter: a model
    # would stay alive through every later test that does not use one, and each of their
    # collections (clear_session) would walk it and no module's end could freeze
    # (CONTRIBUTING.md, CI time). Dropped before the teardown that collects.
    if nextitem is None or _model_parameter(nextitem) != _model_parameter(item):
        _MODELS.clear()


@pytest.fixture(scope="session")
def exported_kinds():
    """{name: kinds} of what tests/export exports for each representative (export_cover)."""
    import export_cover

    out = {}
    for name in export_cover.EXPORTED:
        out[name] = export_cover.kinds(export_cover.build_for_export(name)[0])
        keras.backend.clear_session()
    return out
