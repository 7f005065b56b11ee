"""Every registered model, against independent references (tests/references.py).

Each model is built twice: its default full-size build (the `default_model` fixture, shared
with test_inception.py and test_cli.py: counts, shapes, the forward pass (the largest
models' on a small input), multiply-adds,
the export coverage, every layer's serialisation) and one small headless build (`headless`:
unknown input size, max pooling; the whole-model .keras round trip for the export
representatives, which between them hold every layer class of the registry).
"""

import keras
import numpy as np
import pytest

import keras_classics
from checks import assert_softmax_of, layers_that_do_not_round_trip
from export_cover import EXPORT_DEPTHS, EXPORTED, kinds, uncovered, union
from keras_classics.analysis import count_macs
from references import FEATURE_WIDTH, GMACS, TRAINABLE_PARAMS, VARIANT_PARAMS
from registry_params import ALL_MODELS, LARGE, built, default_size, xdist_group

DEFAULT = [built(n) for n in ALL_MODELS]


def trainable(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def test_every_model_has_independent_references():
    assert set(ALL_MODELS) <= set(TRAINABLE_PARAMS), set(ALL_MODELS) - set(TRAINABLE_PARAMS)
    assert set(ALL_MODELS) <= set(FEATURE_WIDTH), set(ALL_MODELS) - set(FEATURE_WIDTH)


@pytest.mark.parametrize("default_model", DEFAULT, indirect=True)
def test_default_build_matches_reference(default_model):
    name, _, model = default_model
    size = default_size(name)
    assert model.name == name
    assert tuple(model.input_shape) == (None, size, size, 3)
    assert trainable(model) == TRAINABLE_PARAMS[name]
    assert tuple(model.output_shape) == (None, keras_classics.get_spec(name).classes)
    assert model.output_names == ["predictions"]


@pytest.mark.parametrize("default_model", DEFAULT, indirect=True)
def test_outputs_are_the_softmax_of_the_classifier(default_model):
    """One forward pass of two images: the probabilities equal an independent NumPy softmax
    of the classifier's logits (its Dense weights applied to the features it receives), and
    the logits depend on the image."""
    name, _, model = default_model
    classifier = model.get_layer("predictions")
    probe = keras.Model(model.inputs[0], [classifier.input, model.output])
    size = default_size(name)
    if name in LARGE:
        # Their heads pool, so what is checked does not depend on the size: the same layers
        # on a small input (at full size these passes were two thirds of this test's CI
        # time; CONTRIBUTING.md, CI time).
        size = small_size(name)
        probe = keras.models.clone_model(
            probe, input_tensors=keras.Input((size, size, 3)), clone_function=lambda layer: layer
        )
    x = np.random.default_rng(0).uniform(-1, 1, (2, size, size, 3)).astype("float32")
    # predict_on_batch runs a graph, which frees each activation after its last use; an eager
    # call of a functional model keeps them all to the end (EfficientNet-B7 at 600 px: a peak
    # of 8.8 GB against 1.4 GB).
    features, probs = (np.asarray(t, np.float64) for t in probe.predict_on_batch(x))
    kernel, bias = (np.asarray(w, np.float64) for w in classifier.get_weights())
    logits = features @ kernel + bias
    assert probs.shape == (2, keras_classics.get_spec(name).classes)
    # The images differ, so must their logits (by more than float32's rounding): a dead body
    # (constant output) fails here. Random VGGs give logits ~1e-2, random ResNet-101s ~1e5.
    assert np.abs(logits[0] - logits[1]).max() > 1e-4 * np.abs(logits).max() > 0
    assert_softmax_of(probs, logits)


@pytest.mark.parametrize(
    "default_model,expected",
    [built(name, expected, **options) for name, options, expected in VARIANT_PARAMS],
    indirect=["default_model"],
)
def test_variant_params(default_model, expected):
    assert trainable(default_model.model) == expected


@pytest.mark.parametrize("default_model", [built(n) for n in sorted(GMACS)], indirect=True)
def test_multiply_adds_match_papers(default_model):
    gmacs = GMACS[default_model.name]
    measured = count_macs(default_model.model) / 1e9
    assert abs(measured - gmacs) / gmacs <= 0.03, (measured, gmacs)


@pytest.mark.parametrize("default_model", DEFAULT, indirect=True)
def test_made_of_exported_kinds(default_model, exported_kinds):
    """Every layer, block and head kind of the model is exported by a representative of
    export_cover.EXPORTED: a model with a kind none of them exports (a new family, block or
    head) fails here until export_cover gets a representative that has it."""
    missing = uncovered(kinds(default_model.model), union(exported_kinds.values()))
    assert not missing, (
        f"{default_model.name} has kinds no exported representative has; "
        f"add one to tests/export_cover.py EXPORTED: {missing}"
    )


def test_a_kind_no_representative_exports_is_found(exported_kinds):
    """The check above can fail: ResNeXt's form (b) blocks (Fig. 3b: C paths concatenated
    before one 1x1 conv, no registered model's default) are a block kind no representative
    exports. (Form (a)'s kinds, summed paths of 1x1 and 3x3 convs, are a ResNet bottleneck's.)"""
    model = keras_classics.ResNeXt50(
        block_form="b", depths=(1, 1, 1, 1), include_top=False, input_shape=(32, 32, 3)
    )
    missing = uncovered(kinds(model), union(exported_kinds.values()))
    assert any(("keras.Concatenate",) in block for block in missing["block"]), missing


def test_every_representative_exports_a_kind_of_its_own(exported_kinds):
    """The cover is minimal: no representative's export is made only of the others' kinds."""
    assert set(exported_kinds) <= set(ALL_MODELS)
    for name, own in exported_kinds.items():
        others = union(k for n, k in exported_kinds.items() if n != name)
        assert uncovered(own, others), f"{name} exports nothing the others do not"


# The quick loop builds the export representatives headless: between them they hold every
# layer, block and head kind of the registry (export_cover), what the round trip serialises.
# The largest models (LARGE) are built in full once a run, by `default_model`; their headless
# build, and the export representatives', has one block a stage (the export depths where
# export_cover gives them), since what it checks (the pooled width, the pooling, the saved
# graph's layer kinds) does not depend on the depth, except in the families whose width grows
# with it (DenseNet's and DPN's concatenated features): their largest models leave the
# headless check to the family's smaller ones.
WIDTH_GROWS_WITH_DEPTH = {"densenet", "dpn"}
# Families whose `depths` has other than four stages (EfficientNet: Table 1's seven MBConv
# stages).
STAGES = {"efficientnet": 7}
HEADLESS = [
    pytest.param(
        n,
        marks=[pytest.mark.xdist_group(xdist_group(n))]
        + ([] if n in EXPORTED and n not in LARGE else [pytest.mark.slow]),
    )
    for n in ALL_MODELS
    if n not in LARGE or keras_classics.get_spec(n).family not in WIDTH_GROWS_WITH_DEPTH
]


def headless_options(name):
    """The export representatives at their export depths, the other largest models at one
    block a stage, except where the width grows with the depth; the rest in full."""
    if keras_classics.get_spec(name).family in WIDTH_GROWS_WITH_DEPTH:
        return {}
    if name in EXPORT_DEPTHS:
        return {"depths": EXPORT_DEPTHS[name]}
    stages = STAGES.get(keras_classics.get_spec(name).family, 4)
    return {"depths": (1,) * stages} if name in LARGE else {}


@pytest.fixture(scope="module")
def headless(request):
    """(name, model): include_top=False, pooling="max", input size left open."""
    name = request.param
    return name, keras_classics.get_model(
        name, include_top=False, pooling="max", **headless_options(name)
    )


def small_size(name):
    return max(keras_classics.get_spec(name).min_size, 64)


def small_input(name, batch=2, seed=1):
    size = small_size(name)
    return np.random.default_rng(seed).uniform(-1, 1, (batch, size, size, 3)).astype("float32")


@pytest.mark.parametrize("headless", HEADLESS, indirect=True)
def test_headless_max_pooling_at_unknown_size(headless):
    """Any input size above the minimum; the pooled features are the paper's width and the
    maximum of the last feature map (compared with NumPy's)."""
    name, model = headless
    assert tuple(model.input_shape) == (None, None, None, 3)
    assert tuple(model.output_shape) == (None, FEATURE_WIDTH[name])
    pool = model.get_layer("max_pool")
    probe = keras.Model(model.inputs[0], [pool.input, model.output])
    grid, pooled = (np.asarray(t) for t in probe(small_input(name), training=False))
    assert grid.shape[-1] == FEATURE_WIDTH[name]
    np.testing.assert_array_equal(pooled, grid.max(axis=(1, 2)))
    assert np.abs(pooled[0] - pooled[1]).max() > 0


# The whole-model round trip loads (builds) the model a third time, as long as the first
# build; what it adds to the per-layer check below (the functional graph's config) is Keras'
# own and the same for every model, so it runs for the export representatives, which hold
# every layer class, block and head kind of the registry (export_cover; the quick loop's
# four as the exports).
ROUND_TRIP = [param for param in HEADLESS if param.values[0] in EXPORTED]


@pytest.mark.parametrize("headless", ROUND_TRIP, indirect=True)
def test_keras_round_trip_in_safe_mode(headless, tmp_path):
    """model.save and keras.saving.load_model(safe_mode=True) with no custom_objects: the
    same architecture and weights, so the same outputs (no Lambda layer anywhere)."""
    name, model = headless
    x = small_input(name)
    expected = np.asarray(model(x, training=False))
    path = tmp_path / f"{name}.keras"
    model.save(path)
    restored = keras.saving.load_model(path, safe_mode=True)
    assert [layer.name for layer in restored.layers] == [layer.name for layer in model.layers]
    np.testing.assert_allclose(
        np.asarray(restored(x, training=False)), expected, rtol=1e-5, atol=1e-5
    )


@pytest.mark.parametrize("default_model", DEFAULT, indirect=True)
def test_every_layer_serialises_in_safe_mode(default_model):
    """Every layer of every model comes back from its JSON config, in safe mode and without
    custom_objects, as the same layer (checks.layers_that_do_not_round_trip)."""
    assert layers_that_do_not_round_trip(default_model.model) == []


@keras.saving.register_keras_serializable(package="keras_classics_tests")
class _ForgetsItsScale(keras.layers.Layer):
    """A layer whose get_config() leaves out its `scale` argument."""

    def __init__(self, scale=1.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def call(self, x):
        return x * self.scale

    def get_config(self):
        # Keras records the constructor's arguments only where get_config is not overridden;
        # the mistake: overriding it without adding `scale`.
        return super().get_config()


def test_a_config_that_drops_an_argument_is_found():
    """The per-layer check can fail: the restored layer has the default scale, 1.0."""
    inputs = keras.Input((4,))
    model = keras.Model(
        inputs, _ForgetsItsScale(0.2, name="forgets")(keras.layers.Dense(2)(inputs))
    )
    assert layers_that_do_not_round_trip(model) == ["forgets"]


@pytest.mark.parametrize("name", ["alexnet", "vgg11", "resnet18", "googlenet"])
def test_avg_pooling_is_the_mean_of_the_last_feature_map(name):
    size = small_size(name)
    model = keras_classics.get_model(
        name, include_top=False, pooling="avg", input_shape=(size, size, 3)
    )
    probe = keras.Model(model.inputs[0], [model.get_layer("avg_pool").input, model.output])
    grid, pooled = (np.asarray(t, np.float64) for t in probe(small_input(name)))
    assert pooled.shape == (2, FEATURE_WIDTH[name])
    np.testing.assert_allclose(pooled, grid.mean(axis=(1, 2)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["resnet18", "resnext50_32x4d", "vgg11", "inception_v3"])
def test_initialisation_is_seeded_and_layers_differ(name):
    """keras.utils.set_random_seed makes builds repeatable, and no two layers share initial
    weights (a shared Keras initializer object would repeat its values)."""
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
