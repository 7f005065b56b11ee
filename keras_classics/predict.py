"""python -m keras_classics.predict --model_path PATH image.jpg ...: top-5 names and scores.

PATH is a SavedModel version folder (saved_models/resnet50/1: its serving_bytes signature
decodes and preprocesses the files in the graph) or a .tflite file written by
keras_classics.export (preprocessed here with the evaluation crop its JSON records).
"""

import argparse
import os
import sys

from keras_classics import _environment

TOP = 5


def _read(path):
    if not os.path.isfile(path):
        raise ValueError(f"image={path!r} does not exist; accepted: JPEG or PNG files.")
    with open(path, "rb") as f:
        return f.read()


class SavedModelPredictor:
    """serving_bytes of a SavedModel folder: bytes -> [(name, score)] best first."""

    def __init__(self, path):
        import tensorflow as tf

        self.fn = tf.saved_model.load(path).signatures["serving_bytes"]

    def __call__(self, data):
        import tensorflow as tf

        out = self.fn(image_bytes=tf.constant([data]))
        names = [n.decode("utf-8") for n in out["top_k_names"].numpy()[0]]
        return list(zip(names, out["top_k_scores"].numpy()[0].tolist()))


class TFLitePredictor:
    """A .tflite file: the eval crop and normalisation of its JSON, then the interpreter."""

    def __init__(self, path):
        from keras_classics.export import tflite
        from keras_classics.records.input_config import InputConfig

        self.meta = tflite.read_metadata(path)
        # Files exported before the interpolation was recorded resized bilinearly.
        self.input = InputConfig(
            self.meta["preprocessing"],
            self.meta["image_size"],
            self.meta["crop_ratio"],
            self.meta.get("interpolation", "bilinear"),
        )
        self.runner = tflite.Runner(path)

    def __call__(self, data):
        import numpy as np

        from keras_classics.data import eval_preprocess_jpeg

        x = eval_preprocess_jpeg(data, self.input).numpy()
        p = self.runner(x[None])[0]
        order = np.argsort(-p, kind="stable")[: min(TOP, len(p))]
        return [(self.meta["class_names"][i], float(p[i])) for i in order]


def predictor(model_path):
    """The predictor for a SavedModel folder or a .tflite file."""
    if os.path.isfile(os.path.join(model_path, "saved_model.pb")):
        return SavedModelPredictor(model_path)
    if model_path.endswith(".tflite") and os.path.isfile(model_path):
        return TFLitePredictor(model_path)
    raise ValueError(
        f"model_path={model_path!r} is invalid; accepted: a SavedModel version "
        "folder (holding saved_model.pb, e.g. saved_models/resnet50/1) or a "
        ".tflite file written by keras_classics.export."
    )


def _reason(err):
    """The line of an op error that says what is wrong (not TF's graph-location lines)."""
    text = getattr(err, "message", None) or str(err)
    skip = ("Graph execution error", "Detected at node", "<stack traces", "[[")
    lines = [
        ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith(skip)
    ]
    return lines[0] if lines else text.strip()


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m keras_classics.predict", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--model_path", required=True, help="SavedModel version folder or .tflite file"
    )
    parser.add_argument("images", nargs="+", help="JPEG or PNG files")
    args = parser.parse_args(argv)
    _environment.apply()  # before TensorFlow loads: its settings, a quiet import
    try:
        predict = predictor(args.model_path)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    import tensorflow as tf

    failed = 0
    for path in args.images:
        try:
            top = predict(_read(path))
        except (ValueError, tf.errors.InvalidArgumentError) as err:
            print(f"error: {path}: {_reason(err)}", file=sys.stderr)
            failed += 1
            continue
        print(path)
        for rank, (name, score) in enumerate(top, 1):
            print(f"  {rank}. {name:<30} {score:.4f}")
    return 2 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
