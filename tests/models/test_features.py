"""features_only, out_indices and feature_info: every model's levels P1 ... P5 against the
stage widths and grids of its paper's table (tests/references.py FEATURE_LEVELS), on the
shared default builds (no build of their own); the builder's features_only path, its weights
and its refusals on small models."""

import logging

import keras
import numpy as np
import pytest

import keras_classics
from keras_classics.models.features import features_model
from references import FEATURE_LEVELS
from registry_params import ALL_MODELS, built

SIZE = 64


def test_every_model_has_reference_levels():
    assert set(ALL_MODELS) <= set(FEATURE_LEVELS), set(ALL_MODELS) - set(FEATURE_LEVELS)


@pytest.mark.parametrize("default_model", [built(n) for n in ALL_MODELS], indirect=True)
def test_levels_are_the_papers_stages(default_model):
    name, _, model = default_model
    expected = FEATURE_LEVELS[name]
    info = keras_classics.feature_info(model)
    assert [(f.name, f.channels, f.reduction) for f in info] == [
        (level, channels, 2 ** int(level[1:])) for level, channels, _ in expected
    ]
    # The same layers as a features model: each level's map at the default input is the
    # paper's grid.
    features = features_model(model)
    shapes = {k: tuple(v.shape[1:]) for k, v in features.output.items()}
    assert shapes == {level: (grid, grid, channels) for level, channels, grid in expected}
    assert keras_classics.feature_info(features) == info


def test_features_only_loads_the_full_models_file_and_truncates(tmp_path):
    path = str(tmp_path / "full.weights.h5")
    full = keras_classics.ResNet18(classes=10, input_shape=(SIZE, SIZE, 3))
    full.save_weights(path)
    features = keras_classics.ResNet18(features_only=True, out_indices=(1, -1), weights=path)
    assert list(features.output) == ["P2", "P5"]
    assert tuple(features.input_shape) == (None, None, None, 3)  # as include_top=False
    x = np.random.default_rng(0).standard_normal((2, SIZE, SIZE, 3)).astype("float32")
    out = features(x)
    for level, layer in (("P2", "conv2_block2_out"), ("P5", "conv5_block2_out")):
        probe = keras.Model(full.input, full.get_layer(layer).output)
        np.testing.assert_allclose(out[level], probe(x), rtol=0, atol=1e-5)
    early = keras_classics.ResNet18(features_only=True, out_indices=(0, 1), weights=path)
    assert list(early.output) == ["P1", "P2"]
    names = {layer.name for layer in early.layers}
    assert "conv2_block2_out" in names and not any(n.startswith("conv3") for n in names)


def test_fixed_head_families_give_features_at_any_size():
    # include_top=True (the default) is not used: VGG's 7x7 Flatten head would refuse 64 px.
    vgg = keras_classics.VGG11(features_only=True, input_shape=(SIZE, SIZE, 3))
    assert {k: tuple(v.shape[1:]) for k, v in vgg.output.items()} == {
        "P1": (32, 32, 128),
        "P2": (16, 16, 256),
        "P3": (8, 8, 512),
        "P4": (4, 4, 512),
        "P5": (2, 2, 512),
    }


@pytest.mark.parametrize(
    "kwargs,pattern",
    [
        ({"out_indices": (1, 2)}, r"out_indices=\(1, 2\) without features_only=True"),
        ({"features_only": "yes"}, r"features_only='yes' is invalid; accepted: True or False"),
        ({"features_only": True, "pooling": "avg"}, r"pooling='avg' with features_only=True"),
        (
            {"features_only": True, "out_indices": (5,)},
            r"out_indices=\(5,\) is invalid; accepted: .*\['P1', 'P2', 'P3', 'P4', 'P5'\]",
        ),
        ({"features_only": True, "out_indices": (1, -4)}, r"out_indices=\(1, -4\) is invalid"),
        ({"features_only": True, "out_indices": ()}, r"out_indices=\(\) is invalid"),
    ],
)
def test_bad_feature_options(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        keras_classics.ResNet18(**kwargs)


def test_aux_heads_and_features_conflict():
    with pytest.raises(ValueError, match=r"aux_logits=True with features_only=True"):
        keras_classics.GoogLeNet(features_only=True, aux_logits=True)


def test_a_file_for_other_classes_loads_the_body_and_logs_the_new_head(tmp_path, caplog):
    path = str(tmp_path / "ten.weights.h5")
    ten = keras_classics.ResNet18(classes=10, input_shape=(SIZE, SIZE, 3))
    ten.save_weights(path)
    with caplog.at_level(logging.WARNING):
        five = keras_classics.ResNet18(classes=5, input_shape=(SIZE, SIZE, 3), weights=path)
    assert "predictions randomly initialised" in caplog.text
    np.testing.assert_array_equal(
        five.get_layer("conv5_block2_2_conv").kernel, ten.get_layer("conv5_block2_2_conv").kernel
    )
    assert five.get_layer("predictions").kernel.shape == (512, 5)
