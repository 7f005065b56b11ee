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
    "seresnet101",
    "seresnet152",
    "seresnext101_32x4d",
    "senet154",
    "densenet264",
    "densenet161",
    "dpn92",
    "dpn98",
    "dpn107",
    "dpn131",
    *(f"nfnet_f{k}" for k in range(1, 7)),
    "efficientnet_b5",
    "efficientnet_b6",
    "efficientnet_b7",
    "residual_attention56",
    "residual_attention92",
    "attention_next56",
}


# NFNet-F1 ... F6 (133 M to 438 M parameters): a worker building one peaks at about 10 GB, so
# they share one xdist group, built one after another in one worker: with two workers each
# building one at a time, the suite ran out of the machine's 24 GB (CONTRIBUTING.md, CI time).
ONE_AT_A_TIME = {f"nfnet_f{k}" for k in range(1, 7)}


def xdist_group(name):
    """The xdist group of the tests of registry model `name`: its own, or ONE_AT_A_TIME's."""
    return "nfnet_f1-f6" if name in ONE_AT_A_TIME else name


def model_marks(name):
    """The marks of a test parameter naming registry model `name`: slow for the largest, and
    the model's xdist group, so that under `pytest -n 2 --dist loadgroup` (the README's test
    command) every test of one model runs in one worker, which builds the model once."""
    marks = [pytest.mark.xdist_group(xdist_group(name))]
    return marks + ([pytest.mark.slow] if name in LARGE else [])


def model_params(names=ALL_MODELS):
    """pytest params over registry names (model_marks)."""
    return [pytest.param(n, marks=model_marks(n)) for n in names]


def built(name, *values, **options):
    """An indirect parameter of the `default_model` fixture (conftest.py), followed by the
    test's other parameter `values`: `name` built by the registry with `options`; tests
    sharing a parameter share one build."""
    key = (name, tuple(sorted(options.items())))
    label = name + "".join(f"-{k}={v}" for k, v in sorted(options.items()))
    return pytest.param(key, *values, id=label, marks=model_marks(name))


def default_size(name):
    return keras_classics.get_spec(name).input.size
