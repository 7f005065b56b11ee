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


@pytest.mark.slow
def test_sigkill_mid_run_resumes_to_the_same_weights(tmp_path):
    args = [*SMOKE, "--epochs", "3", "--steps_per_epoch", "6", "--deterministic"]
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
