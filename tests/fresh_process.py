"""A script run in a fresh Python process (the tests that split the CPU into logical devices,
which a process can do only before TensorFlow starts)."""

import json
import os
import subprocess
import sys


def json_of_script(script, timeout=600):
    """Runs `script` with this Python in a fresh process; returns the JSON its last line of
    output prints (the process must end with status 0)."""
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.splitlines()[-1])
