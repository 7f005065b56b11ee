"""The whole chain of the README: a torchvision checkpoint file -> `python -m
keras_classics.convert` -> the builder's weights= -> export for TF Serving -> serving_default.

The source is a random-weight torchvision resnet18 with randomised BN statistics, saved as
.safetensors; the reference is torchvision's own inference pipeline (the weights' preset
transforms: resize 256, centre crop 224, ImageNet mean/std) and softmax. Photos are cut to
256x256, so the serving graph's eval crop (0.875 of the shorter side, resized to 224) is the
central 224x224 window without resampling, as torchvision's transforms take it.
"""

import numpy as np
import pytest
import tensorflow as tf

import keras_classics
from convert_parity import TOLERANCE, TORCH_INSTALL, block_triton, randomise_torch_batchnorm
from keras_classics import convert, export
from keras_classics.convert.__main__ import main

block_triton()

torch = pytest.importorskip("torch", reason=f"the chain needs torch: {TORCH_INSTALL}")
torchvision = pytest.importorskip("torchvision", reason=f"the chain needs torchvision: "
                                                         f"{TORCH_INSTALL}")
safetensors_torch = pytest.importorskip("safetensors.torch",
                                        reason="pip install safetensors")
skimage_data = pytest.importorskip("skimage.data", reason="pip install scikit-image")

PHOTOS = ("chelsea", "astronaut", "coffee")
SIDE = 256  # = 224 / 0.875, the size torchvision's transforms resize the shorter side to


def photos():
    """uint8 [N, 256, 256, 3]: the top-left 256x256 of real photos."""
    return np.stack([getattr(skimage_data, name)()[:SIDE, :SIDE, :3] for name in PHOTOS])


def test_checkpoint_to_serving_signature(tmp_path, capsys):
    torch.manual_seed(0)
    source = randomise_torch_batchnorm(torchvision.models.resnet18(weights=None))
    checkpoint, weights = tmp_path / "resnet18.safetensors", tmp_path / "resnet18.weights.h5"
    safetensors_torch.save_file(source.state_dict(), str(checkpoint))

    # The command line, in this process.
    assert main(["--source", "torchvision", "--model", "resnet18", "--checkpoint",
                 str(checkpoint), "--output", str(weights)]) == 0
    assert "preprocess_input(x, 'torch')" in capsys.readouterr().out
    info = convert.read_weights_info(weights)
    model = keras_classics.ResNet18(weights=str(weights), **info.builder_kwargs)
    path = export.export_model(model, info.spec(), output_dir=str(tmp_path / "saved_models"))
    serve = tf.saved_model.load(path).signatures["serving_default"]

    images = photos()
    out = serve(images=tf.constant(images, tf.float32))
    probabilities = out["probabilities"].numpy()

    transforms = torchvision.models.ResNet18_Weights.IMAGENET1K_V1.transforms()
    with torch.no_grad():
        batch = transforms(torch.from_numpy(images).permute(0, 3, 1, 2))
        expected = torch.softmax(source(batch), dim=-1).numpy()
    diff = float(np.abs(probabilities - expected).max())
    # Log-probabilities are the logits less a per-image constant: compared as logits are.
    log_diff = float(np.abs(np.log(probabilities) - np.log(expected)).max())
    print(f"\nchain torchvision resnet18 -> SavedModel serving_default: max |p - p_torch| = "
          f"{diff:.2e}, max |log p - log p_torch| = {log_diff:.2e}")
    assert tuple(batch.shape) == (len(PHOTOS), 3, 224, 224)
    assert diff <= 1e-4
    assert log_diff <= TOLERANCE * np.abs(np.log(expected)).max()
    np.testing.assert_array_equal(out["top_k_classes"].numpy()[:, 0], expected.argmax(-1))
