"""Other input channels from 3-channel weights (weights/loading.py), against timm's
adapt_input_conv on the same kernels, and the property it is for: a model on c channels given
an image repeated over them (c = 1, or a multiple of 3) gives the 3-channel model's output."""

import numpy as np
import pytest

import keras_classics
from convert_parity import block_triton
from keras_classics.weights.loading import adapt_input_conv

SIZE = 48


@pytest.mark.parametrize("channels", [1, 2, 3, 4, 5, 7])
def test_adapted_kernel_is_timms(channels):
    block_triton()
    torch = pytest.importorskip("torch")
    manipulate = pytest.importorskip("timm.models._manipulate")
    kernel = np.random.default_rng(channels).standard_normal((7, 7, 3, 16)).astype("float32")
    theirs = manipulate.adapt_input_conv(channels, torch.from_numpy(kernel.transpose(3, 2, 0, 1)))
    np.testing.assert_allclose(
        adapt_input_conv(kernel, channels), theirs.numpy().transpose(2, 3, 1, 0), rtol=0, atol=1e-6
    )


@pytest.fixture(scope="module")
def rgb_file(tmp_path_factory):
    """A 3-channel ResNet-18's weights file and its model."""
    path = str(tmp_path_factory.mktemp("rgb") / "rgb.weights.h5")
    model = keras_classics.ResNet18(classes=10, input_shape=(SIZE, SIZE, 3))
    model.save_weights(path)
    return path, model


@pytest.mark.parametrize("channels", [1, 6])
def test_an_image_repeated_over_the_channels_gives_the_rgb_output(rgb_file, channels):
    path, rgb = rgb_file
    model = keras_classics.ResNet18(classes=10, input_shape=(SIZE, SIZE, channels), weights=path)
    grey = np.random.default_rng(0).standard_normal((2, SIZE, SIZE, 1)).astype("float32")
    expected = np.asarray(rgb(np.repeat(grey, 3, axis=-1)))
    got = np.asarray(model(np.repeat(grey, channels, axis=-1)))
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5 * np.abs(expected).max())
    # Only the first convolution differs from the file.
    assert model.get_layer("conv1_conv").kernel.shape == (7, 7, channels, 64)
    np.testing.assert_array_equal(
        model.get_layer("conv2_block1_1_conv").kernel, rgb.get_layer("conv2_block1_1_conv").kernel
    )


def test_a_file_of_another_input_conv_is_refused(tmp_path):
    path = str(tmp_path / "grey.weights.h5")
    keras_classics.ResNet18(classes=10, input_shape=(SIZE, SIZE, 1)).save_weights(path)
    # A 1-channel file is not adapted to 3 channels (timm adapts 3-channel weights only).
    with pytest.raises(ValueError, match=r"does not fit architecture 'resnet18'.*conv1_conv"):
        keras_classics.ResNet18(classes=10, input_shape=(SIZE, SIZE, 3), weights=path)
