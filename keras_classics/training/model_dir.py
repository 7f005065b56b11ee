"""The model_dir's record of whose run it holds: run.json, and the wall time spent so far."""

import json
import os

from keras_classics.records import fileio


def claim(model_dir, identity):
    """Refuses a model_dir that holds another run; records this run's `identity` (a dict).

    Returns True when the model_dir already holds this run (it resumes).
    """
    path = os.path.join(model_dir, "run.json")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            held = json.load(f)
        clash = {k: (held.get(k), v) for k, v in identity.items() if held.get(k) != v}
        if clash:
            raise ValueError(
                f"model_dir={model_dir!r} holds another run "
                + ", ".join(f"{k}: {a!r} there, {b!r} here" for k, (a, b) in clash.items())
                + "; accepted: a new --model_dir, or the same settings to resume that run."
            )
        return True
    fileio.write_json(path, identity)
    return False


def prior_wall_seconds(model_dir):
    """The wall time of the run's earlier processes (results.json of an earlier end)."""
    path = os.path.join(model_dir, "results.json")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            return json.load(f).get("wall_seconds", 0.0)
    return 0.0
