"""Checkpoints that do not fit: the error names the offending keys, and nothing is assigned."""

import sys

import keras
import numpy as np
import pytest

from convert_parity import TORCH_INSTALL, block_triton
from keras_classics import convert
from keras_classics.weights import conversion as core


@pytest.fixture(scope="module")
def resnet18_state():
    """A torchvision resnet18 state dict (random weights) as NumPy arrays."""
    block_triton()
    torch = pytest.importorskip("torch", reason=f"needs torch: {TORCH_INSTALL}")
    torchvision = pytest.importorskip("torchvision", reason=f"needs torchvision: {TORCH_INSTALL}")
    torch.manual_seed(0)
    state = torchvision.models.resnet18(weights=None).state_dict()
    return {k: v.numpy().copy() for k, v in state.items()}


@pytest.fixture
def assignments(monkeypatch):
    """Counts Layer.set_weights calls: a refused checkpoint must assign nothing."""
    calls = []
    original = keras.layers.Layer.set_weights

    def counting(self, weights):
        calls.append(self.name)
        return original(self, weights)

    monkeypatch.setattr(keras.layers.Layer, "set_weights", counting)
    return calls


def test_unknown_names_and_sources():
    with pytest.raises(ValueError, match="'resnet51'.*Did you mean 'resnet50'"):
        convert.from_torchvision("resnet51", {})
    with pytest.raises(ValueError, match="source='caffe' is invalid"):
        convert.get_conversion("caffe", "resnet50")
    with pytest.raises(ValueError, match="not a convertible timm model"):
        convert.from_timm("resnet50", {})


def test_builder_options_that_change_the_source_architecture_are_refused():
    with pytest.raises(ValueError, match="downsample_at='1x1' is invalid.*'3x3'"):
        convert.from_torchvision("resnet50", {}, downsample_at="1x1")
    with pytest.raises(ValueError, match="variant='paper'"):
        convert.from_torchvision("alexnet", {}, variant="paper")
    with pytest.raises(TypeError, match="weights="):
        convert.from_torchvision("resnet18", {}, weights="x.weights.h5")


def test_checkpoint_arguments(tmp_path):
    with pytest.raises(TypeError, match="checkpoint=42 is invalid"):
        convert.read_checkpoint(42)
    with pytest.raises(ValueError, match="does not exist"):
        convert.read_checkpoint(tmp_path / "absent.pth")
    (tmp_path / "weights.npz").write_bytes(b"")
    with pytest.raises(ValueError, match="unknown suffix"):
        convert.read_checkpoint(tmp_path / "weights.npz")
    with pytest.raises(ValueError, match="holds no parameters"):
        convert.read_checkpoint({})


def test_a_pth_that_is_no_checkpoint_is_a_value_error_without_torch(tmp_path, monkeypatch):
    path = tmp_path / "resnet50.pth"
    path.write_bytes(b"not read")
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` raises ImportError
    with pytest.raises(ValueError, match=r"resnet50.pth' could not be read as a PyTorch"):
        convert.from_torchvision("resnet50", path)


def test_safetensors_read_without_torch(resnet18_state, tmp_path, monkeypatch):
    from safetensors.numpy import save_file

    path = tmp_path / "resnet18.safetensors"
    save_file(resnet18_state, str(path))
    monkeypatch.setitem(sys.modules, "torch", None)
    state = convert.read_checkpoint(path)
    assert sorted(state) == sorted(resnet18_state)  # safetensors stores keys sorted
    for key, value in resnet18_state.items():
        np.testing.assert_array_equal(state[key], value)


def test_training_checkpoint_wrapping_and_data_parallel_prefix(resnet18_state):
    wrapped = {"epoch": 3, "state_dict": {f"module.{k}": v for k, v in resnet18_state.items()}}
    assert list(convert.read_checkpoint(wrapped)) == list(resnet18_state)


def test_another_model_lists_the_missing_keys(resnet18_state, assignments):
    with pytest.raises(ValueError) as info:
        convert.from_torchvision("resnet34", resnet18_state, input_shape=(64, 64, 3))
    message = str(info.value)
    assert "torchvision 'resnet34'" in message
    assert "missing keys: layer1.2.conv1.weight, layer1.2.bn1.weight" in message
    assert "more)" in message and "Nothing was loaded" in message
    assert assignments == []


def test_missing_and_unexpected_keys(resnet18_state, assignments):
    state = dict(resnet18_state)
    del state["layer4.1.bn2.running_var"]
    state["head.extra.weight"] = np.zeros(3, "float32")
    with pytest.raises(ValueError) as info:
        convert.from_torchvision("resnet18", state, input_shape=(64, 64, 3))
    message = str(info.value)
    assert "1 missing keys: layer4.1.bn2.running_var" in message
    assert "1 unexpected keys: head.extra.weight" in message
    assert assignments == []


def test_wrong_shapes_are_listed(resnet18_state, assignments):
    state = dict(resnet18_state)
    state["layer2.0.conv1.weight"] = np.zeros((128, 64, 5, 5), "float32")
    with pytest.raises(ValueError) as info:
        convert.from_torchvision("resnet18", state, input_shape=(64, 64, 3), classes=10)
    message = str(info.value)
    assert "3 arrays have the wrong shape" in message
    assert (
        "layer2.0.conv1.weight (128, 64, 5, 5) -> conv3_block1_1_conv/kernel (3, 3, 64, 128)"
        in message
    )
    assert "fc.weight (1000, 512) -> predictions/kernel (512, 10)" in message
    assert "fc.bias (1000,) -> predictions/bias (10,)" in message
    assert assignments == []


def test_builder_options_without_source_weights(resnet18_state):
    """Options our builders have and the source has not: refused, naming the layers."""
    with pytest.raises(ValueError, match="(?s)resnet18.*25 missing keys: layer1.0.downsample.0"):
        convert.from_torchvision(
            "resnet18", resnet18_state, input_shape=(64, 64, 3), shortcut="C"
        )  # projections everywhere
    with pytest.raises(
        ValueError, match="has layers that .* no weights for: conv2_block1_path0_1_conv"
    ):
        convert.from_torchvision(
            "resnet50", resnet18_state, input_shape=(64, 64, 3), block_form="b"
        )


def test_headless_model_ignores_only_the_classifier(resnet18_state):
    model = convert.from_torchvision(
        "resnet18", resnet18_state, include_top=False, input_shape=(64, 64, 3)
    )
    assert "predictions" not in [layer.name for layer in model.layers]
    state = {**resnet18_state, "fc2.weight": np.zeros(3, "float32")}
    with pytest.raises(ValueError, match="unexpected keys: fc2.weight"):
        convert.from_torchvision("resnet18", state, include_top=False, input_shape=(64, 64, 3))


def test_keras_applications_checkpoint_of_another_model(assignments):
    vgg16 = keras.applications.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
    with pytest.raises(ValueError) as info:
        convert.from_keras_applications("VGG19", vgg16, include_top=False, input_shape=(32, 32, 3))
    assert "6 missing keys: block3_conv4/kernel, block3_conv4/bias, block4_conv4/kernel" in str(
        info.value
    )
    vgg19 = keras.applications.VGG19(weights=None, include_top=False, input_shape=(32, 32, 3))
    with pytest.raises(ValueError, match="6 unexpected keys: block3_conv4/kernel"):
        convert.from_keras_applications("VGG16", vgg19, include_top=False, input_shape=(32, 32, 3))
    assert assignments == []


def test_weights_info_of_other_files(tmp_path):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    path = tmp_path / "plain.weights.h5"
    model.save_weights(path)
    assert convert.read_weights_info(path) is None
    with pytest.raises(ValueError, match="records no conversion info"):
        convert.load_converted(path)
    with pytest.raises(ValueError, match="ending in '.weights.h5'"):
        core.check_output(tmp_path / "out.h5")
