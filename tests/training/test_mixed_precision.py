"""Mixed precision: one training step per family, the classifier in float32, the export.

The steps run under mixed_bfloat16 whatever the CPU (emulated where it has no bfloat16
arithmetic: slower, the same numbers), the policy --mixed_precision picks on CPUs with
AVX512_BF16 or AMX; mixed_float16, the GPU policy, shares everything checked here but the
loss scaling, which Keras' compile adds (checked below).
"""

import keras
import numpy as np
import pytest

import keras_classics
from keras_classics.training import distribute, equivalence, optim, precision, recipes


@pytest.fixture
def mixed():
    previous = keras.config.dtype_policy()
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    yield
    keras.mixed_precision.set_global_policy(previous)


def compiled(name, size, include_top, policy):
    """`name` at `size` as the training program compiles it (the bundled dataset's recipe),
    under `policy`, at the equivalence check's depth; fixed-head models below their input size
    get a pooled head."""
    spec = keras_classics.get_spec(name)
    if include_top:
        model = spec.build(
            classes=10,
            input_shape=(size, size, 3),
            classifier_activation=None,
            **equivalence.OPTIONS.get(name, {}),
        )
    else:
        model = equivalence.pooled_head_model(spec, size, 10)
    model = distribute.for_replicas(model)
    r = recipes.resolve(
        spec,
        kind="modern",
        dataset="fashion_mnist",
        global_batch_size=4,
        epochs=1,
        steps_per_epoch=10,
    )
    optim.compile_for_recipe(model, r)
    assert keras.config.dtype_policy().name == policy
    return model


# One model per family, at the sizes and depths of the equivalence checks.
# The quick loop (-m "not slow") steps the four cheapest.
QUICK = {"resnet18", "googlenet", "vgg11", "alexnet"}
FAMILIES = [
    pytest.param(*row[:3], marks=[] if row[0] in QUICK else [pytest.mark.slow])
    for row in equivalence.REPRESENTATIVES + equivalence.PENDING
]


@pytest.mark.parametrize("name,size,include_top", FAMILIES)
def test_a_mixed_bfloat16_step_is_finite_with_float32_outputs(mixed, name, size, include_top):
    model = compiled(name, size, include_top, "mixed_bfloat16")
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert convs and all(layer.compute_dtype == "bfloat16" for layer in convs)
    assert all(w.dtype == "float32" for w in model.weights)
    assert model.get_layer("predictions").compute_dtype == "float32"
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (4, size, size, 3)).astype("float32")
    y = np.eye(10, dtype="float32")[rng.integers(0, 10, 4)]
    logs = model.train_on_batch(x, y, return_dict=True)
    assert np.isfinite(logs["loss"]) and 0.5 < logs["cross_entropy"] < 50, logs
    assert model.output.dtype == "float32"  # what predict returns (a trace saved)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            assert layer.moving_variance.dtype == "float32"
            assert np.isfinite(layer.moving_variance.numpy()).all()


def test_float16_policy_scales_the_loss():
    previous = keras.config.dtype_policy()
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = compiled("resnet18", 32, True, "mixed_float16")
    finally:
        keras.mixed_precision.set_global_policy(previous)
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    assert model.get_layer("predictions").compute_dtype == "float32"


def test_the_float32_graph_is_unchanged():
    """Without a mixed policy the classifier follows the global policy as before (its
    config names no dtype of its own)."""
    model = keras_classics.ResNet18(input_shape=(32, 32, 3), include_top=True, classes=10)
    assert model.get_layer("predictions").dtype_policy.name == "float32"


@pytest.mark.parametrize(
    "gpus,flags,policy",
    [
        (2, set(), "mixed_float16"),
        (0, {"avx512f", "avx512_bf16"}, "mixed_bfloat16"),
        (0, {"amx_bf16", "amx_tile"}, "mixed_bfloat16"),
    ],
)
def test_the_policy_follows_the_hardware(gpus, flags, policy):
    assert precision.pick_policy(gpus, flags)[0] == policy


def test_a_cpu_without_bfloat16_is_refused():
    with pytest.raises(ValueError, match="mixed_precision=True is invalid.*AVX512_BF16"):
        precision.pick_policy(0, {"avx2", "fma"})


def test_exported_mixed_model_serves_float32_close_to_its_float32_twin(mixed, tmp_path):
    """The same weights exported from a mixed_bfloat16 build and from a float32 build: both
    SavedModels serve float32 probabilities, within bfloat16's precision of each other."""
    import tensorflow as tf

    from keras_classics import export
    from keras_classics.export import saved_model

    spec = keras_classics.get_spec("resnet18")
    keras.utils.set_random_seed(0)
    half = spec.build(classes=10, input_shape=(32, 32, 3))
    weights = tmp_path / "w.weights.h5"
    half.save_weights(weights)
    keras.mixed_precision.set_global_policy("float32")
    full = spec.build(classes=10, input_shape=(32, 32, 3), weights=str(weights))
    pixels = np.random.default_rng(1).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    served = []
    for model, name in ((half, "half"), (full, "full")):
        path = saved_model.write(export.Classifier(model, spec), str(tmp_path / name))
        out = tf.saved_model.load(path).signatures["serving_default"](images=pixels)
        assert out["probabilities"].dtype == tf.float32
        served.append(out["probabilities"].numpy())
    np.testing.assert_allclose(served[0].sum(-1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(served[0], served[1], atol=2e-2)
    assert np.abs(served[0] - served[1]).max() > 0  # two precisions, not one graph twice
