"""What a newcomer reads from train/main.py: no start-up noise, "Epoch k/N", the estimate."""

import os
import re
import subprocess
import sys

from train_helpers import SMOKE, run_main


def test_import_without_nvidia_devices_prints_nothing():
    """Without a device node (as the check sees it here) the environment every command line
    applies (keras_classics/_environment.py) imports TensorFlow and lists its devices writing
    nothing to stderr: no CUDA driver or cuInit lines."""
    code = (
        "from keras_classics import _environment as environment\n"
        "environment.glob.glob = lambda pattern: []\n"
        "environment.apply()\n"
        "import tensorflow as tf\n"
        "print(len(tf.config.list_physical_devices('CPU')))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "1"
    assert result.stderr == ""


def test_three_epoch_run_reads_epoch_k_of_3_with_an_early_estimate(tmp_path):
    result = run_main(
        [*SMOKE, "--epochs", "3", "--steps_per_epoch", "7", "--model_dir", str(tmp_path / "run")],
        env={"TF_CPP_MIN_LOG_LEVEL": None},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert [int(k) for k in re.findall(r"Epoch (\d+)/3", out)] == [1, 2, 3], out[-3000:]
    assert not re.search(r"Epoch \d+/[12]\b", out)
    assert "3 epoch(s) x 7 steps (21 in all)" in out
    # After the compiling step and 5 timed ones, in the first epoch.
    estimate = re.search(r"about ([0-9.e+-]+) s a step, 21 steps: about (\d+ s|\d+ min)", out)
    assert estimate and 0 < float(estimate.group(1)) < 60, out[-3000:]
    assert out.index(estimate.group(0)) < out.index("Epoch 2/3")
    for noise in ("shuffle", "cuInit", "cuda drivers", "Sharding callback"):
        assert noise not in result.stderr, result.stderr[-3000:]
