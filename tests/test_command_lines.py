"""Every command line, run as a user runs it, sets TensorFlow's environment before it loads
(keras_classics/_environment.py): on a machine without NVIDIA GPUs its stderr has no CUDA,
cuInit or oneDNN start-up lines, for --help as for a short real command."""

import configparser
import glob
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOISE = ("cuda", "cuinit", "onednn", "absl::initializelog", "cpu_feature_guard")


def console_scripts():
    """setup.cfg's console_scripts as {name: (module, function)}."""
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    lines = config["options.entry_points"]["console_scripts"].strip().splitlines()
    pairs = (tuple(part.strip() for part in line.split("=")) for line in lines)
    return {name: tuple(target.split(":")) for name, target in pairs}


def script(name):
    """What the installed console script `name` runs (pip's wrapper), from this checkout."""
    module, function = console_scripts()[name]
    code = f"import sys; from {module} import {function}; sys.exit({function}())"
    return [sys.executable, "-c", code]


# (command, a short real command's arguments): `python -m`, train/main.py, the console scripts.
COMMANDS = {
    "python -m keras_classics": (
        [sys.executable, "-m", "keras_classics"],
        ["list", "--family", "alexnet"],
    ),
    "keras-classics": (script("keras-classics"), ["list", "--family", "vgg"]),
    "python -m keras_classics.train": (
        [sys.executable, "-m", "keras_classics.train"],
        ["--model", "resnet18", "--epochs", "0"],
    ),
    "train/main.py": (
        [sys.executable, str(ROOT / "train" / "main.py")],
        ["--model", "resnet18", "--batch_size", "0"],
    ),
    "keras-classics-train": (script("keras-classics-train"), ["--model", "vgg11", "--epochs", "0"]),
    "python -m keras_classics.export": (
        [sys.executable, "-m", "keras_classics.export"],
        ["--model", "alexnet", "--format", "onnx", "--quantize", "int8"],
    ),
    "keras-classics-export": (
        script("keras-classics-export"),
        ["--model", "alexnet", "--format", "tflite", "--version", "2"],
    ),
    "python -m keras_classics.convert": (
        [sys.executable, "-m", "keras_classics.convert"],
        ["--list"],
    ),
    "keras-classics-convert": (script("keras-classics-convert"), ["--list"]),
    "python -m keras_classics.predict": (
        [sys.executable, "-m", "keras_classics.predict"],
        ["--model_path", "missing.tflite", "missing.jpg"],
    ),
}


def run(command, tmp_path):
    # What a newcomer's shell has: none of the variables the environment module sets.
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    return subprocess.run(
        command, capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path
    )


def test_every_console_script_is_covered():
    assert set(console_scripts()) <= set(COMMANDS)


# A console script imports the module its `python -m` form runs and calls the same function with
# the same parser, so its --help is that form's: the scripts run their short command only (four
# fewer processes).
RUNS = [
    (name, which)
    for name in sorted(COMMANDS)
    for which in (("short",) if name in console_scripts() else ("--help", "short"))
]


@pytest.mark.skipif(
    bool(glob.glob("/dev/nvidia[0-9]*")),
    reason="with an NVIDIA device node the CUDA lines are kept: they diagnose a CUDA set-up",
)
@pytest.mark.parametrize("name, which", RUNS)
def test_command_prints_no_start_up_noise(name, which, tmp_path):
    command, short = COMMANDS[name]
    result = run(command + (["--help"] if which == "--help" else short), tmp_path)
    if which == "--help":
        # absl's --help (the training program's) exits 1, argparse's 0.
        assert result.returncode in (0, 1) and result.stdout.strip(), result.stderr[-3000:]
    else:
        # The listings exit 0; the short training and export commands are refusals (exit 2,
        # "error: ..."): they load TensorFlow, check their settings and stop there.
        assert result.returncode in (0, 2), result.stderr[-3000:]
        assert result.returncode == 0 or result.stderr.startswith("error: "), result.stderr
    noise = [line for line in result.stderr.splitlines() if any(n in line.lower() for n in NOISE)]
    assert not noise, "\n".join(noise)
