"""The Inception family beyond the registry-parametrised tests: the papers' feature-map sizes,
auxiliary heads and the inference model, the scaled residual layer, options and errors.

Expected values come from the papers' tables and figures and from torchvision/timm counts
(tests/references.py), never from this package. Full-size builds come from the shared
`default_model` fixture (conftest.py): one build per model and options for the whole run.
"""

import keras
import numpy as np
import pytest

import keras_classics
from checks import assert_softmax_of
from keras_classics.layers import ScaledResidual
from registry_params import built, default_size


def trainable(model_or_layers):
    weights = (
        model_or_layers.trainable_weights
        if isinstance(model_or_layers, keras.Model)
        else [w for layer in model_or_layers for w in layer.trainable_weights]
    )
    return sum(int(np.prod(w.shape)) for w in weights)


def shapes(model, names):
    return {n: tuple(model.get_layer(n).output.shape[1:]) for n in names}


# GoogLeNet Table 1, "output size" column (224 input).
GOOGLENET_TABLE1 = {
    "conv1_relu": (112, 112, 64),
    "pool1": (56, 56, 64),
    "conv2_relu": (56, 56, 192),
    "pool2": (28, 28, 192),
    "inception_3a": (28, 28, 256),
    "inception_3b": (28, 28, 480),
    "pool3": (14, 14, 480),
    "inception_4a": (14, 14, 512),
    "inception_4b": (14, 14, 512),
    "inception_4c": (14, 14, 512),
    "inception_4d": (14, 14, 528),
    "inception_4e": (14, 14, 832),
    "pool4": (7, 7, 832),
    "inception_5a": (7, 7, 832),
    "inception_5b": (7, 7, 1024),
    "pool5": (1024,),
}


# (inception_3a_5x5 kernel, its bias, the normalisation layer, dropout): true 5x5 convs with
# biases, LRN and 40% dropout in the paper (section 5), torchvision's 3x3 without bias, BN and
# its dropout=0.2 (pytorch/vision#906).
GOOGLENET_VARIANTS = [
    built("googlenet", ((5, 5, 16, 32), True, "LocalResponseNormalization", 0.4)),
    built("googlenet", ((3, 3, 16, 32), False, "BatchNormalization", 0.2), variant="torchvision"),
]


@pytest.mark.parametrize("default_model,expected", GOOGLENET_VARIANTS, indirect=["default_model"])
def test_googlenet_table1_sizes_and_variants(default_model, expected):
    model = default_model.model
    assert shapes(model, GOOGLENET_TABLE1) == GOOGLENET_TABLE1
    kernel, bias, norm, dropout = expected
    assert model.get_layer("inception_3a_5x5").kernel.shape == kernel
    assert model.get_layer("inception_3a_5x5").use_bias == bias
    norms = {type(layer).__name__ for layer in model.layers} & {
        "LocalResponseNormalization",
        "BatchNormalization",
    }
    assert norms == {norm}
    assert model.get_layer("pool5_drop").rate == dropout


@pytest.mark.parametrize("default_model", [built("bn_inception")], indirect=True)
def test_bn_inception_figure5_sizes(default_model):
    model = default_model.model
    # BN paper Figure 5, output sizes at 224.
    expected = {
        "conv1_relu": (112, 112, 64),
        "pool1": (56, 56, 64),
        "conv2_relu": (56, 56, 192),
        "pool2": (28, 28, 192),
        "inception_3a": (28, 28, 256),
        "inception_3b": (28, 28, 320),
        "inception_3c": (14, 14, 576),
        "inception_4a": (14, 14, 576),
        "inception_4d": (14, 14, 576),
        "inception_4e": (7, 7, 1024),
        "inception_5a": (7, 7, 1024),
        "inception_5b": (7, 7, 1024),
    }
    assert shapes(model, expected) == expected
    # 5x5 convs replaced by two 3x3 ("double #3x3"): no 5x5 kernel anywhere.
    kernels = {
        tuple(layer.kernel.shape[:2])
        for layer in model.layers
        if isinstance(layer, keras.layers.Conv2D)
    }
    assert kernels == {(7, 7), (1, 1), (3, 3)}


@pytest.mark.parametrize("default_model", [built("inception_v3")], indirect=True)
def test_inception_v3_grids(default_model):
    model = default_model.model
    expected = {
        "pool_5a_3x3": (35, 35, 192),
        "mixed_5d": (35, 35, 288),
        "mixed_6e": (17, 17, 768),
        "mixed_7c": (8, 8, 2048),
    }
    assert shapes(model, expected) == expected


@pytest.mark.parametrize("default_model", [built("inception_v2")], indirect=True)
def test_inception_v2_follows_table1(default_model):
    model = default_model.model
    # Rethinking Table 1, "input size" column: stem output 35x35x288, 3 x Fig. 5 at 35x35x288,
    # 5 x Fig. 6 at 17x17x768, 2 x Fig. 7 from 8x8x1280, pool on 8x8x2048.
    expected = {
        "conv_1a_3x3_relu": (149, 149, 32),
        "conv_2a_3x3_relu": (147, 147, 32),
        "conv_2b_3x3_relu": (147, 147, 64),
        "pool_3a_3x3": (73, 73, 64),
        "conv_3b_3x3_relu": (71, 71, 80),
        "conv_4a_3x3_relu": (35, 35, 192),
        "conv_4b_3x3_relu": (35, 35, 288),
        "mixed_5d": (35, 35, 288),
        "mixed_6a": (17, 17, 768),
        "mixed_6f": (17, 17, 768),
        "mixed_7a": (8, 8, 1280),
        "mixed_7c": (8, 8, 2048),
    }
    assert shapes(model, expected) == expected
    modules = sorted(
        layer.name
        for layer in model.layers
        if isinstance(layer, keras.layers.Concatenate)
        and layer.name.startswith("mixed_")
        and layer.name.count("_") == 1
    )
    # 3 + 1 + 5 + 1 + 2 modules.
    assert [m[-2] for m in modules].count("5") == 3
    assert [m[-2] for m in modules].count("6") == 6
    assert [m[-2] for m in modules].count("7") == 3


@pytest.mark.parametrize("default_model", [built("inception_v4")], indirect=True)
def test_inception_v4_grids(default_model):
    model = default_model.model
    # Figure 3 (stem) and Figure 9's 35x35x384, 17x17x1024, 8x8x1536.
    expected = {
        "conv_2b_3x3_relu": (147, 147, 64),
        "mixed_3a": (73, 73, 160),
        "mixed_4a": (71, 71, 192),
        "mixed_5a": (35, 35, 384),
        "mixed_5e": (35, 35, 384),
        "mixed_6h": (17, 17, 1024),
        "mixed_7d": (8, 8, 1536),
    }
    assert shapes(model, expected) == expected
    # Figure 9: 4 x A, 7 x B, 3 x C, 14 inception modules.
    for grid, count in (("5", 4), ("6", 7), ("7", 3)):
        names = [f"mixed_{grid}{c}" for c in "bcdefgh"[:count]]
        assert all(model.get_layer(n) for n in names)
        with pytest.raises(ValueError):
            model.get_layer(f"mixed_{grid}{'bcdefghi'[count]}")


@pytest.mark.parametrize("default_model", [built("inception_resnet_v1")], indirect=True)
def test_inception_resnet_v1_grids(default_model):
    model = default_model.model
    # Figure 14 stem 35x35x256, Reduction-A to 17x17x896, Reduction-B to 8x8x1792.
    expected = {
        "conv_4b_3x3_relu": (35, 35, 256),
        "block35_5": (35, 35, 256),
        "mixed_6a": (17, 17, 896),
        "block17_10": (17, 17, 896),
        "mixed_7a": (8, 8, 1792),
        "block8_5": (8, 8, 1792),
    }
    assert shapes(model, expected) == expected


@pytest.mark.parametrize(
    "default_model,depths",
    [
        built("inception_resnet_v2", (10, 20, 10)),  # the default: the paper's Figure 18
        built("inception_resnet_v2", (5, 10, 5), depths=(5, 10, 5)),
    ],
    indirect=["default_model"],
)
def test_inception_resnet_v2_depths(default_model, depths):
    model = default_model.model
    blocks = {
        grid: sum(
            1
            for layer in model.layers
            if isinstance(layer, ScaledResidual) and layer.name.startswith(f"block{grid}_")
        )
        for grid in (35, 17, 8)
    }
    assert blocks == dict(zip((35, 17, 8), depths))
    last = f"block8_{depths[2]}"
    expected = {
        f"block35_{depths[0]}": (35, 35, 320),
        f"block17_{depths[1]}": (17, 17, 1088),
        last: (8, 8, 2080),
        "conv_7b_1x1_relu": (8, 8, 1536),
    }
    assert shapes(model, expected) == expected
    # Scales of the release: 0.17, 0.10, 0.20; its last block unscaled and linear.
    assert model.get_layer("block35_1_add").scale == pytest.approx(0.17)
    assert model.get_layer("block17_1_add").scale == pytest.approx(0.10)
    assert model.get_layer("block8_1_add").scale == pytest.approx(0.20)
    assert model.get_layer(f"{last}_add").scale == 1.0
    assert not isinstance(model.get_layer(last), keras.layers.ReLU)


@pytest.mark.parametrize("depths", [(5, 10), (5, 0, 5), "schema", (5.0, 10, 5)])
def test_inception_resnet_bad_depths(depths):
    with pytest.raises(ValueError, match="depths="):
        keras_classics.InceptionResNetV2(depths=depths)


# Aux heads: the training model, (parameters of each head, trainable params without them).
# (The plain builds' single "predictions" output: test_models.py.)
AUX_CASES = [
    built("googlenet", (3_188_840, 3_190_888), 6_998_552, aux_logits=True),
    # torchvision: 13,004,888 - 6,624,904 in all; its aux conv has BN instead of a bias.
    built("googlenet", (3_188_968, 3_191_016), 6_624_904, aux_logits=True, variant="torchvision"),
    built("inception_v3", (27_161_264 - 23_834_568,), 23_834_568, aux_logits=True),
]


@pytest.mark.parametrize(
    "default_model,head_params,main_params", AUX_CASES, indirect=["default_model"]
)
def test_aux_heads_and_inference_model(default_model, head_params, main_params):
    name, _, model = default_model
    spec = keras_classics.get_spec(name)
    aux_names = [f"aux{i}_predictions" for i in range(1, len(spec.aux_loss_weights) + 1)]
    assert model.output_names == ["predictions", *aux_names]
    assert len(head_params) == len(spec.aux_loss_weights)
    for i, expected in enumerate(head_params, start=1):
        head = [layer for layer in model.layers if layer.name.startswith(f"aux{i}_")]
        assert trainable(head) == expected
    assert all(tuple(s) == (None, 1000) for s in model.output_shape)

    inference = keras_classics.inference_model(model)
    assert inference.output_names == ["predictions"]
    assert trainable(inference) == main_params
    # The same layer objects, so the same variables: training one trains the other.
    by_name = {layer.name: layer for layer in model.layers}
    assert all(by_name[layer.name] is layer for layer in inference.layers)
    training_vars = {id(v) for v in model.weights}
    assert {id(v) for v in inference.weights} <= training_vars
    assert keras_classics.inference_model(inference) is inference

    size = default_size(name)
    x = np.random.default_rng(2).uniform(-1, 1, (1, size, size, 3)).astype("float32")
    classifiers = [model.get_layer(n) for n in model.output_names]
    probe = keras.Model(model.inputs[0], [*model.outputs, *(c.input for c in classifiers)])
    results = [np.asarray(t, np.float64) for t in probe(x, training=False)]
    outputs, features = results[: len(classifiers)], results[len(classifiers) :]
    np.testing.assert_allclose(
        np.asarray(inference(x, training=False)), outputs[0], rtol=1e-5, atol=1e-6
    )
    # Every head is a softmax classifier: its output is the log-softmax of its own Dense
    # logits (NumPy), and the heads differ (each reads its own features).
    for classifier, out, feature in zip(classifiers, outputs, features):
        kernel, bias = (np.asarray(w, np.float64) for w in classifier.get_weights())
        logits = feature @ kernel + bias
        assert_softmax_of(out, logits)
    assert all(np.abs(outputs[0] - out).max() > 0 for out in outputs[1:])


def test_aux_loss_weights_in_specs():
    assert keras_classics.get_spec("googlenet").aux_loss_weights == (0.3, 0.3)
    assert keras_classics.get_spec("inception_v3").aux_loss_weights == (0.4,)
    for name in (
        "bn_inception",
        "inception_v2",
        "inception_v4",
        "inception_resnet_v1",
        "inception_resnet_v2",
    ):
        assert keras_classics.get_spec(name).aux_loss_weights == ()


def test_training_model_trains_with_spec_loss_weights():
    spec = keras_classics.get_spec("googlenet")
    model = keras_classics.GoogLeNet(variant="torchvision", aux_logits=True, classes=5)
    model.compile(
        optimizer=keras.optimizers.SGD(0.01),
        loss=["sparse_categorical_crossentropy"] * 3,
        loss_weights=[1.0, *spec.aux_loss_weights],
        run_eagerly=True,
    )  # one step: tracing the graph would take longer
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, (2, 224, 224, 3)).astype("float32")
    y = np.array([1, 3])
    # The loss is the spec-weighted sum of each head's cross-entropy (NumPy, from the heads'
    # probabilities; test_on_batch runs in inference mode, as this call does).
    probabilities = [np.asarray(p, np.float64) for p in model(x, training=False)]
    weights = [1.0, *spec.aux_loss_weights]
    expected = sum(
        w * -np.log(p[np.arange(len(y)), y]).mean() for w, p in zip(weights, probabilities)
    )
    logs = model.test_on_batch(x, [y, y, y], return_dict=True)
    assert logs["loss"] == pytest.approx(expected, rel=1e-4)
    before = keras.ops.convert_to_numpy(model.get_layer("aux1_fc").kernel).copy()
    model.train_on_batch(x, [y, y, y])
    # The aux head received gradients, and the inference model sees the updated body.
    assert not np.allclose(keras.ops.convert_to_numpy(model.get_layer("aux1_fc").kernel), before)
    inference = keras_classics.inference_model(model)
    np.testing.assert_allclose(
        np.asarray(inference(x, training=False)),
        np.asarray(model(x, training=False)[0]),
        rtol=1e-5,
        atol=1e-6,
    )


def test_aux_argument_errors():
    with pytest.raises(ValueError, match="aux_logits=True needs include_top=True"):
        keras_classics.GoogLeNet(aux_logits=True, include_top=False)
    with pytest.raises(ValueError, match="aux_logits='yes'"):
        keras_classics.InceptionV3(aux_logits="yes")
    with pytest.raises(ValueError, match="14x14 grid"):
        keras_classics.GoogLeNet(aux_logits=True, input_shape=(192, 192, 3))
    with pytest.raises(ValueError, match="17x17 or larger"):
        keras_classics.InceptionV3(aux_logits=True, input_shape=(139, 139, 3))
    # Inception-v2 (Table 1) has no auxiliary head to offer.
    with pytest.raises(TypeError, match="aux_logits"):
        keras_classics.InceptionV2(aux_logits=True)
    with pytest.raises(ValueError, match="variant='v1'"):
        keras_classics.GoogLeNet(variant="v1")
    with pytest.raises(TypeError, match="model="):
        keras_classics.inference_model("googlenet")


def test_converted_weights_options():
    """bn_scale=False drops every BN's gamma (keras.applications' layout, counted in
    references.VARIANT_PARAMS); avg_pool_counts_padding=True divides a border window by 9,
    zeros included, as torch's avg_pool2d(3, 1, padding=1)."""
    model = keras_classics.InceptionV3(include_top=False, input_shape=(75, 75, 3), bn_scale=False)
    bns = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert bns and not any(layer.scale for layer in bns)
    model = keras_classics.InceptionV3(
        include_top=False, input_shape=(75, 75, 3), avg_pool_counts_padding=True
    )
    pad, pool = (model.get_layer(f"mixed_5b_b3_1_pool{s}") for s in ("_pad", ""))
    counted = np.asarray(pool(pad(np.ones((1, 3, 3, 1), "float32"))))
    np.testing.assert_allclose(
        counted[0, :, :, 0],
        [[4 / 9, 6 / 9, 4 / 9], [6 / 9, 1, 6 / 9], [4 / 9, 6 / 9, 4 / 9]],
        rtol=1e-6,
    )
    for kwargs in ({"bn_scale": "no"}, {"avg_pool_counts_padding": 1}):
        with pytest.raises(ValueError, match=f"{next(iter(kwargs))}="):
            keras_classics.InceptionV3(include_top=False, **kwargs)
    with pytest.raises(ValueError, match="bn_scale=None"):
        keras_classics.InceptionResNetV2(include_top=False, bn_scale=None)


@pytest.mark.parametrize(
    "name", ["inception_v3", "inception_v4", "inception_resnet_v1", "inception_resnet_v2"]
)
def test_minimum_input_size(name):
    spec = keras_classics.get_spec(name)
    assert (spec.min_size, spec.input.size, spec.input.mode) == (75, 299, "tf")
    with pytest.raises(ValueError, match=">= 75"):
        keras_classics.get_model(name, include_top=False, input_shape=(74, 74, 3))


def test_small_family_specs():
    for name in ("googlenet", "bn_inception"):
        spec = keras_classics.get_spec(name)
        assert (spec.min_size, spec.input.size, spec.input.mode) == (32, 224, "tf")
    with pytest.raises(ValueError, match=">= 32"):
        keras_classics.GoogLeNet(include_top=False, input_shape=(31, 31, 3))
    # The minimum gives the 1x1 final grid.
    model = keras_classics.BNInception(include_top=False, input_shape=(32, 32, 3))
    assert tuple(model.output_shape) == (None, 1, 1, 1024)


def test_scaled_residual_value_and_config():
    layer = ScaledResidual(0.17, name="add")
    rng = np.random.default_rng(4)
    x, r = (rng.normal(size=(2, 5, 5, 8)).astype("float32") for _ in range(2))
    np.testing.assert_allclose(
        np.asarray(layer([x, r])), x + np.float32(0.17) * r, rtol=1e-6, atol=1e-6
    )
    assert layer.compute_output_shape([(None, 5, 5, 8), (None, 5, 5, 8)]) == (None, 5, 5, 8)
    clone = ScaledResidual.from_config(layer.get_config())
    assert clone.scale == pytest.approx(0.17) and clone.name == "add"
    assert not layer.trainable_weights


def test_scaled_residual_keras_round_trip(tmp_path):
    inputs = keras.Input((6, 6, 4))
    r = keras.layers.Conv2D(4, 1, name="up")(inputs)
    outputs = ScaledResidual(0.2, name="scaled")([inputs, r])
    model = keras.Model(inputs, outputs)
    x = np.random.default_rng(5).normal(size=(3, 6, 6, 4)).astype("float32")
    expected = np.asarray(model(x))
    path = tmp_path / "scaled.keras"
    model.save(path)
    restored = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(restored.get_layer("scaled"), ScaledResidual)
    assert restored.get_layer("scaled").scale == pytest.approx(0.2)
    np.testing.assert_allclose(np.asarray(restored(x)), expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("scale", ["0.1", None, True])
def test_scaled_residual_rejects_bad_scale(scale):
    with pytest.raises(ValueError, match="scale="):
        ScaledResidual(scale)


def test_scaled_residual_rejects_shape_mismatch():
    with pytest.raises(ValueError, match="differ in shape"):
        ScaledResidual(0.1)([keras.Input((4, 4, 8)), keras.Input((4, 4, 6))])
