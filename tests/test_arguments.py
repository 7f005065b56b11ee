"""Bad arguments raise ValueError naming the argument, the value and what is accepted."""

import re

import numpy as np
import pytest

import keras_classics
from registry_params import ALL_MODELS


@pytest.mark.parametrize("name", ALL_MODELS)
@pytest.mark.parametrize(
    "kwargs,pattern",
    [
        ({"classes": 0}, r"classes=0 .*integer >= 1"),
        ({"pooling": "mean", "include_top": False}, r"pooling='mean' .*'avg', 'max'"),
        ({"input_shape": (224, 224, 0)}, r"channels=0.*positive integer"),
        ({"input_shape": (224, 224)}, r"input_shape=\(224, 224\) .*\(height, width, channels\)"),
    ],
)
def test_bad_arguments(name, kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        keras_classics.get_model(name, **kwargs)


@pytest.mark.parametrize("name", ALL_MODELS)
def test_imagenet_offline_names_the_file_or_says_there_is_none(name, tmp_path, monkeypatch):
    """The suite runs with KERAS_CLASSICS_OFFLINE=1 (tests/conftest.py) and an empty cache:
    a model with weight cards names the upstream file and where to place it, before building
    its body; one without says which models have pretrained weights."""
    from keras_classics.pretrained import DownloadError, pretrained_models

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    if name in pretrained_models():
        with pytest.raises(DownloadError, match=r"https://.*OFFLINE=1.*Place the file by hand"):
            keras_classics.get_model(name, weights="imagenet")
    else:
        with pytest.raises(ValueError, match=rf"'imagenet' is not available for model '{name}'"):
            keras_classics.get_model(name, weights="imagenet")


@pytest.mark.parametrize("name", ALL_MODELS)
def test_input_below_minimum_states_it(name):
    spec = keras_classics.get_spec(name)
    small = spec.min_size - 1
    with pytest.raises(
        ValueError,
        match=rf"input_shape=\({small}, {small}, 3\).*>= "
        rf"{spec.min_size}",
    ):
        keras_classics.get_model(name, include_top=False, input_shape=(small, small, 3))


def test_minimum_input_size_builds():
    """The smallest accepted size really builds (the bound is not too strict either)."""
    for name in ("alexnet", "vgg11", "resnet18"):
        size = keras_classics.get_spec(name).min_size
        model = keras_classics.get_model(name, include_top=False, input_shape=(size, size, 3))
        assert min(model.output_shape[1:3]) >= 1


@pytest.mark.parametrize("name", [n for n in ALL_MODELS if keras_classics.get_spec(n).fixed_head])
def test_fixed_head_refuses_other_sizes(name):
    with pytest.raises(ValueError, match=r"include_top=True needs the paper's \d+x\d+"):
        keras_classics.get_model(name, input_shape=(320, 320, 3))


def test_unknown_name_suggests_close_matches():
    with pytest.raises(ValueError, match=r"name='resnet05'.*Did you mean 'resnet50'"):
        keras_classics.get_model("resnet05")


def test_unknown_builder_option_is_a_type_error():
    with pytest.raises(
        TypeError,
        match=r"ResNet50\(\) got unexpected keyword arguments "
        r"\['shortcuts'\]",
    ):
        keras_classics.ResNet50(shortcuts="A")


def test_builder_arguments_bind_as_its_signature():
    # The keras.applications arguments positionally, as keras.applications takes them.
    model = keras_classics.ResNet20_CIFAR(False, None, None, (32, 32, 3), "avg")
    assert model.output_shape == (None, 64)
    with pytest.raises(TypeError, match="too many positional arguments"):
        keras_classics.ResNet20_CIFAR(True, None, None, None, None, 10, "softmax", None, None)
    with pytest.raises(TypeError, match="multiple values for argument 'include_top'"):
        keras_classics.ResNet20_CIFAR(False, include_top=True)


@pytest.mark.parametrize(
    "builder,kwargs,pattern",
    [
        (keras_classics.ResNet18, {"shortcut": "D"}, r"shortcut='D' .*\('A', 'B', 'C'\)"),
        (keras_classics.PlainNet18, {"shortcut": "B"}, r"shortcut='B' .*plain net"),
        (keras_classics.ResNet50, {"downsample_at": "3x1"}, r"downsample_at='3x1'"),
        (keras_classics.ResNet18, {"block_form": "a"}, r"block_form='a' .*basic"),
        (keras_classics.ResNeXt50, {"block_form": "d"}, r"block_form='d' .*\('a', 'b', 'c'\)"),
        (keras_classics.ResNet50, {"depths": (3, 4, 6)}, r"depths=\(3, 4, 6\) .*4 positive"),
        (keras_classics.ResNeXt50, {"depths": (3, 0, 6, 3)}, r"depths=\(3, 0, 6, 3\)"),
        (keras_classics.PlainNet18, {"depths": "18"}, r"depths='18'"),
        (keras_classics.InceptionV4, {"depths": (26, 1, 1)}, r"depths=.*at most 25 modules"),
        (keras_classics.InceptionV4, {"depths": (4, 7)}, r"depths=\(4, 7\) .*3 positive"),
        (keras_classics.AlexNet, {"variant": "caffe"}, r"variant='caffe' .*'paper', 'torchvision'"),
    ],
)
def test_bad_family_options(builder, kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        builder(**kwargs)


def test_weights_missing_path(tmp_path):
    missing = str(tmp_path / "nope.weights.h5")
    with pytest.raises(ValueError, match=re.escape(f"weights='{missing}' does not exist")):
        keras_classics.ResNet18(weights=missing)


def test_weights_file_round_trip_and_mismatch(tmp_path):
    path = str(tmp_path / "r18.weights.h5")
    source = keras_classics.ResNet18(classes=10)
    source.save_weights(path)
    loaded = keras_classics.ResNet18(classes=10, weights=path)
    for a, b in zip(source.weights, loaded.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    with pytest.raises(ValueError, match=r"does not fit architecture 'resnet34'.*conv2_block3"):
        keras_classics.ResNet34(classes=10, weights=path)
    # Another option is another architecture: option C projects every shortcut, B only where
    # the shape changes.
    with pytest.raises(
        ValueError, match=r"does not fit architecture 'resnet18'.*conv2_block1_0_conv"
    ):
        keras_classics.ResNet18(classes=10, shortcut="C", weights=path)


def test_registry_refuses_duplicate_names():
    spec = keras_classics.get_spec("resnet50")
    with pytest.raises(ValueError, match="'resnet50' is already registered"):
        keras_classics.register_model(spec)
