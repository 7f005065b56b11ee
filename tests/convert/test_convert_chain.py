"""The whole chain of docs/convert.md: a torchvision checkpoint file -> `python -m
keras_classics.convert` -> the builder's weights= -> export for TF Serving -> serving_default.

The source is a random-weight torchvision resnet18 with randomised BN statistics, saved as
.safetensors; the reference is torchvision's own inference pipeline (the weights' preset
transforms: resize 256, centre crop 224, ImageNet mean/std) and softmax. Photos are cut to
256x256, so the serving graph's eval crop (0.875 of the shorter side, resized to 224) is the
central 224x224 window without resampling, as torchvision's transforms take it.
"""

import re

import numpy as np
import pytest
import tensorflow as tf

import keras_classics
from convert_parity import TOLERANCE, TORCH_INSTALL, block_triton, randomise_torch_batchnorm
from keras_classics import convert, export
from keras_classics.convert.__main__ import main
from keras_classics.export.__main__ import main as export_main

block_triton()

torch = pytest.importorskip("torch", reason=f"the chain needs torch: {TORCH_INSTALL}")
torchvision = pytest.importorskip(
    "torchvision", reason=f"the chain needs torchvision: {TORCH_INSTALL}"
)
safetensors_torch = pytest.importorskip("safetensors.torch", reason="pip install safetensors")
skimage_data = pytest.importorskip("skimage.data", reason="pip install scikit-image")

PHOTOS = ("chelsea", "astronaut", "coffee")
SIDE = 256  # = 224 / 0.875, the size torchvision's transforms resize the shorter side to


def photos():
    """uint8 [N, 256, 256, 3]: the top-left 256x256 of real photos."""
    return np.stack([getattr(skimage_data, name)()[:SIDE, :SIDE, :3] for name in PHOTOS])


# resnet18: the Python API (export_model with input_config=info.input); resnet50: the export
# command line, which must apply the recorded torchvision options (downsample_at="3x3", not the
# registry's paper default: same weight shapes, other outputs) by itself.
CHAINS = [("resnet18", "api"), pytest.param("resnet50", "cli", marks=pytest.mark.slow)]


@pytest.mark.parametrize("name,route", CHAINS)
def test_checkpoint_to_serving_signature(name, route, tmp_path, capsys):
    torch.manual_seed(0)
    source = randomise_torch_batchnorm(getattr(torchvision.models, name)(weights=None))
    checkpoint, weights = tmp_path / f"{name}.safetensors", tmp_path / f"{name}.weights.h5"
    safetensors_torch.save_file(source.state_dict(), str(checkpoint))

    # The command line, in this process.
    assert (
        main(
            [
                "--source",
                "torchvision",
                "--model",
                name,
                "--checkpoint",
                str(checkpoint),
                "--output",
                str(weights),
            ]
        )
        == 0
    )
    assert "preprocess_input(x, 'torch')" in capsys.readouterr().out
    saved_models = tmp_path / "saved_models"
    if route == "api":
        info = convert.read_weights_info(weights)
        model = keras_classics.get_model(name, weights=str(weights), **info.builder_kwargs)
        path = export.export_model(
            model, name, output_dir=str(saved_models), input_config=info.input
        )
    else:
        assert (
            export_main(
                ["--model", name, "--weights", str(weights), "--output_dir", str(saved_models)]
            )
            == 0
        )
        path = capsys.readouterr().out.strip().splitlines()[-1]
    serve = tf.saved_model.load(path).signatures["serving_default"]

    images = photos()
    out = serve(images=tf.constant(images, tf.float32))
    probabilities = out["probabilities"].numpy()

    weights_enum = {
        "resnet18": torchvision.models.ResNet18_Weights,
        "resnet50": torchvision.models.ResNet50_Weights,
    }[name]
    transforms = weights_enum.IMAGENET1K_V1.transforms()
    with torch.no_grad():
        batch = transforms(torch.from_numpy(images).permute(0, 3, 1, 2))
        expected = torch.softmax(source(batch), dim=-1).numpy()
    diff = float(np.abs(probabilities - expected).max())
    # Log-probabilities are the logits less a per-image constant: compared as logits are,
    # where float32 holds them (a random ResNet-50's softmax underflows to 0 for some classes).
    held = (expected > 1e-30) & (probabilities > 1e-30)
    assert held.sum(axis=1).min() >= 5  # each image's leading classes at least
    log_expected = np.log(expected[held])
    log_diff = float(np.abs(np.log(probabilities[held]) - log_expected).max())
    print(
        f"\nchain torchvision {name} ({route}) -> SavedModel serving_default: max |p - "
        f"p_torch| = {diff:.2e}, max |log p - log p_torch| = {log_diff:.2e}"
    )
    assert tuple(batch.shape) == (len(PHOTOS), 3, 224, 224)
    assert diff <= 1e-4
    assert log_diff <= TOLERANCE * np.abs(log_expected).max()
    np.testing.assert_array_equal(out["top_k_classes"].numpy()[:, 0], expected.argmax(-1))


def test_export_command_refuses_weights_converted_for_another_model(tmp_path, capsys):
    torch.manual_seed(0)
    weights = tmp_path / "resnet18.weights.h5"
    path = tmp_path / "resnet18.safetensors"
    safetensors_torch.save_file(torchvision.models.resnet18(weights=None).state_dict(), str(path))
    assert (
        main(
            [
                "--source",
                "torchvision",
                "--model",
                "resnet18",
                "--checkpoint",
                str(path),
                "--output",
                str(weights),
            ]
        )
        == 0
    )
    assert (
        export_main(
            [
                "--model",
                "resnet34",
                "--weights",
                str(weights),
                "--output_dir",
                str(tmp_path / "out"),
            ]
        )
        == 2
    )
    assert re.search(
        r"error: weights=.* were converted for 'resnet18' \(from torchvision "
        r"resnet18\), not model='resnet34'",
        capsys.readouterr().err,
    )
    assert not (tmp_path / "out").exists()
