import os
import subprocess
import sys

import h5py
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Small, fast, real: resnet18 on the bundled Fashion-MNIST at 32x32.
SMOKE = ["--model", "resnet18", "--batch_size", "8", "--validation_steps", "1"]


def run_main(args, env=None, timeout=600):
    """train/main.py in a fresh process (what a user runs); `env` entries of None are unset."""
    environ = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})}
    return subprocess.run(
        [sys.executable, os.path.join(ROOT, "train", "main.py"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={k: v for k, v in environ.items() if v is not None},
    )


def read_weights(path):
    """{dataset path: array} of a Keras .weights.h5 file."""
    out = {}
    with h5py.File(path, "r") as f:
        f.visititems(
            lambda name, obj: (
                out.__setitem__(name, np.array(obj)) if isinstance(obj, h5py.Dataset) else None
            )
        )
    return out


def assert_same_weights(a, b, **tolerance):
    wa, wb = read_weights(a), read_weights(b)
    assert wa.keys() == wb.keys() and len(wa) > 10
    for key in wa:
        np.testing.assert_allclose(wa[key], wb[key], err_msg=key, **tolerance)
