"""`python -m keras_classics.convert`: checkpoint file -> .weights.h5 -> builder(weights=...)."""

import os
import pathlib
import subprocess
import sys

import keras
import numpy as np
import pytest

import keras_classics
from convert_parity import (
    TORCH_INSTALL,
    assert_parity,
    block_triton,
    nhwc_input,
    ours,
    randomise_keras,
    randomise_torch_batchnorm,
    torch_forward,
)
from keras_classics import convert
from keras_classics.convert.__main__ import main
from test_parity_keras_applications import write_published_layout

REPO = pathlib.Path(__file__).resolve().parents[2]


def run_cli(*args):
    """The CLI in a fresh process, importing this checkout's package."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]),
    }
    return subprocess.run(
        [sys.executable, "-m", "keras_classics.convert", *map(str, args)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_cli_round_trip_from_a_pth_file(tmp_path):
    """Random-weight torchvision checkpoint -> CLI -> ResNet18(weights=...) gives the source's
    softmax; the file records the preprocessing, and load_converted rebuilds the model."""
    block_triton()
    torch = pytest.importorskip("torch", reason=f"needs torch: {TORCH_INSTALL}")
    torchvision = pytest.importorskip("torchvision", reason=f"needs torchvision: {TORCH_INSTALL}")
    torch.manual_seed(0)
    source = randomise_torch_batchnorm(torchvision.models.resnet18(weights=None))
    checkpoint, output = tmp_path / "resnet18-random.pth", tmp_path / "resnet18.weights.h5"
    torch.save(source.state_dict(), checkpoint)
    result = run_cli(
        "--source",
        "torchvision",
        "--model",
        "resnet18",
        "--checkpoint",
        checkpoint,
        "--output",
        output,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "preprocess_input(x, 'torch')" in result.stdout

    x = nhwc_input(64, seed=5)
    expected = torch.softmax(torch.from_numpy(torch_forward(source, x)), dim=-1).numpy()
    model = keras_classics.ResNet18(weights=str(output), input_shape=(64, 64, 3))
    assert_parity(ours(model, x), expected, "CLI torchvision resnet18 (softmax at 64)")

    info = convert.read_weights_info(output)
    assert (info.model, info.input.mode, info.source, info.source_model) == (
        "resnet18",
        "torch",
        "torchvision",
        "resnet18",
    )
    assert (info.input.size, info.input.crop_ratio, info.input.interpolation) == (
        224,
        0.875,
        "bilinear",
    )
    rebuilt = convert.load_converted(output, input_shape=(64, 64, 3))
    np.testing.assert_array_equal(ours(rebuilt, x), ours(model, x))


def test_cli_records_builder_options(tmp_path, capsys):
    """In-process, torch-free: keras.applications VGG19 features, --set include_top=False;
    the file records caffe preprocessing and the options, and loads into VGG19."""
    keras.utils.set_random_seed(0)
    source = randomise_keras(
        keras.applications.VGG19(weights=None, include_top=False, input_shape=(32, 32, 3))
    )
    checkpoint, output = tmp_path / "vgg19_notop.h5", tmp_path / "vgg19_notop.weights.h5"
    write_published_layout(source, checkpoint)
    assert (
        main(
            [
                "--source",
                "keras.applications",
                "--model",
                "VGG19",
                "--checkpoint",
                str(checkpoint),
                "--output",
                str(output),
                "--set",
                "include_top=False",
            ]
        )
        == 0
    )
    assert "preprocess_input(x, 'caffe')" in capsys.readouterr().out
    info = convert.read_weights_info(output)
    assert info.builder_kwargs == {"include_top": False}
    assert info.input.mode == "caffe"
    x = nhwc_input(32, seed=6)
    model = keras_classics.VGG19(include_top=False, weights=str(output), input_shape=(32, 32, 3))
    assert_parity(ours(model, x), ours(source, x), "CLI keras.applications VGG19 (features)")


def test_cli_errors_write_nothing(tmp_path, capsys):
    source = keras.applications.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
    checkpoint, output = tmp_path / "vgg16.weights.h5", tmp_path / "out.weights.h5"
    source.save_weights(checkpoint)
    assert (
        main(
            [
                "--source",
                "keras.applications",
                "--model",
                "VGG19",
                "--checkpoint",
                str(checkpoint),
                "--output",
                str(output),
                "--set",
                "include_top=False",
            ]
        )
        == 2
    )
    assert "missing keys: block3_conv4/kernel" in capsys.readouterr().err
    assert not output.exists()
    assert (
        main(
            [
                "--source",
                "keras.applications",
                "--model",
                "VGG16",
                "--checkpoint",
                str(checkpoint),
                "--output",
                str(tmp_path / "out.h5"),
            ]
        )
        == 2
    )
    assert "ending in '.weights.h5'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--source", "torchvision"])
    assert "--model, --checkpoint, --output required" in capsys.readouterr().err


def test_cli_list(capsys):
    assert main(["--list"]) == 0
    out = capsys.readouterr().out
    for source, names in convert.list_convertible().items():
        for name in names:
            assert f"{source:20s} {name:20s}" in out
