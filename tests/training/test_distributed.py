"""Distribution and fault tolerance, each in fresh processes as a user would run them."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from train_helpers import ROOT, SMOKE, assert_same_weights, run_main


def _free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.mark.slow
def test_two_worker_multi_worker_mirrored_run(tmp_path):
    workers = [f"127.0.0.1:{p}" for p in _free_ports(2)]
    procs = []
    for index in range(2):
        env = {
            **os.environ,
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "TF_CONFIG": json.dumps(
                {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
            ),
        }
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    os.path.join(ROOT, "train", "main.py"),
                    *SMOKE,
                    "--max_steps",
                    "2",
                    "--model_dir",
                    str(tmp_path / f"worker{index}"),
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
        )
    outputs = [p.communicate(timeout=600) for p in procs]
    for proc, (_, err) in zip(procs, outputs):
        assert proc.returncode == 0, err[-3000:]
    assert "2 replica(s) of MultiWorkerMirroredStrategy" in outputs[0][0]
    chief = tmp_path / "worker0"
    assert (chief / "results.json").exists() and (chief / "last.weights.h5").exists()
    assert any(n.startswith("ckpt-1") for n in os.listdir(chief / "backup"))
    assert not (tmp_path / "worker1" / "results.json").exists()  # only the chief writes


# One process of the multi-worker comparison: trains ResNet-18 as
# keras_classics.training.equivalence does (float64, the program's data, recipe and fit, five
# steps) under MultiWorkerMirroredStrategy when TF_CONFIG names a cluster, else on one device,
# and writes its state (weights, BatchNorm statistics, optimizer slots) to argv[1].
WORKER = r"""
import sys
import numpy as np
import tensorflow as tf
from keras_classics.training import distribute, equivalence
multi = distribute.cluster_size() > 1
strategy = distribute.make_strategy("multi_worker" if multi else "one_device")
state = equivalence.train_state(strategy, "resnet18", image_size=32, dtype="float64")
np.savez(sys.argv[1], **{k.replace("/", "|"): v for k, v in state.items()})
"""


@pytest.mark.slow
def test_two_workers_train_what_one_process_trains(tmp_path):
    """MultiWorkerMirroredStrategy, two local worker processes (one replica each) against one
    process on one device, the same global batch (8), synchronised BatchNorm, float64: every
    tensor within 1e-4 of its largest value after five steps. Each worker runs the whole input
    pipeline (the bundled data are not file-sharded) and tf.data's automatic sharding hands it
    its rows of each global batch, so both see one process's batches."""
    import numpy as np

    from keras_classics.training import equivalence

    workers = [f"127.0.0.1:{p}" for p in _free_ports(2)]

    def start(out, index=None):
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
        env.pop("TF_CONFIG", None)
        if index is not None:
            env["TF_CONFIG"] = json.dumps(
                {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
            )
        return subprocess.Popen(
            [sys.executable, "-c", WORKER, str(out)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )

    procs = [start(tmp_path / f"worker{i}.npz", i) for i in range(2)]
    one = start(tmp_path / "one.npz")
    for proc in [*procs, one]:
        _, err = proc.communicate(timeout=900)
        assert proc.returncode == 0, err[-3000:]

    def state(path):
        with np.load(path) as f:
            return {k.replace("|", "/"): f[k] for k in f.files}

    single = state(tmp_path / "one.npz")
    for i in range(2):
        diff = equivalence.differences(single, state(tmp_path / f"worker{i}.npz"))
        assert any("moving_mean" in p for p in diff) and any(
            p.startswith("optimizer/") for p in diff
        )
        worst = max(diff, key=diff.get)
        print(f"worker {i}: worst {diff[worst]:.1e} ({worst})")
        assert diff[worst] <= 1e-4, (i, worst, diff[worst])


# With the modern training pieces on: their draws are functions of (seed, epoch), and the EMA
# is part of the backup, so the resumed run's (EMA) weights are the uninterrupted run's too.
# A run without them resumes through the same backup and restore (it was a second case here,
# 43 s of CI for no code path of its own); tests/training/test_train.py resumes one in-process
# (test_fit_sees_the_runs_epochs_also_when_resuming, its epoch count).
PIECES = [
    *("--randaugment", "2,9", "--random_erasing", "0.25"),
    *("--mixup", "0.2", "--cutmix", "1.0", "--mix_switch_prob", "0.5", "--ema", "0.9"),
]


@pytest.mark.slow
def test_sigkill_mid_run_resumes_to_the_same_weights(tmp_path):
    args = [*SMOKE, "--epochs", "3", "--steps_per_epoch", "6", "--deterministic", *PIECES]
    reference = run_main([*args, "--model_dir", str(tmp_path / "reference")])
    assert reference.returncode == 0, reference.stderr[-3000:]

    run_dir = tmp_path / "killed"
    proc = subprocess.Popen(
        [
            sys.executable,
            os.path.join(ROOT, "train", "main.py"),
            *args,
            "--model_dir",
            str(run_dir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    deadline = time.time() + 600
    # Kill during epoch 2: after the first epoch's backup, before the run ends.
    while not (run_dir / "backup" / "checkpoint").exists():
        assert proc.poll() is None and time.time() < deadline, "run ended before epoch 1"
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (run_dir / "results.json").exists()

    resumed = run_main([*args, "--model_dir", str(run_dir)])
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "resuming from" in resumed.stdout
    assert json.loads((run_dir / "results.json").read_text())["epochs"] == 3
    assert_same_weights(
        tmp_path / "reference" / "last.weights.h5",
        run_dir / "last.weights.h5",
        rtol=1e-5,
        atol=1e-6,
    )
