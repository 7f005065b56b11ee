"""CPU inference speed of one model as Keras, SavedModel, TFLite float32/float16/int8 and ONNX.

    python benchmarks/bench_export.py                      # ResNet-50, batch 1 and 32
    python benchmarks/bench_export.py --model resnet18 --rounds 3

Every runtime gets the same preprocessed 224x224 images except the SavedModel, whose
serving_default signature is timed as TF Serving runs it: raw 224x224 RGB pixels, with the
eval crop, resize and normalisation inside the graph. Keras runs predict_on_batch (its compiled
predict function); TFLite runs on ai-edge-litert's interpreter with XNNPACK (its default CPU
delegate) and --threads threads; ONNX on onnxruntime's CPU execution provider with --threads
intra-op threads, once bare (preprocessed input, as TFLite) and once with the preprocessing
inside (raw pixels, as the SavedModel row). The rounds interleave the runtimes so that machine
drift (other jobs) hits all alike. Latency: median of batch-1 calls; throughput: batch / median
batch time. Random weights: speed does not depend on them; int8 is calibrated on Fashion-MNIST
images.
"""

import argparse
import os
import statistics
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The TensorFlow settings train/main.py runs with (see the comments there); override them from
# the shell to measure TensorFlow's defaults.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

import numpy as np
import tensorflow as tf

import keras_classics
from keras_classics import export
from keras_classics.export import onnx, tflite


def timed(fn, x):
    start = time.perf_counter()
    fn(x)
    return time.perf_counter() - start


def runtimes(name, threads, calibration_steps, workdir):
    """{runtime: (call on preprocessed or raw images, wants raw pixels, size in MB)}."""
    spec = keras_classics.get_spec(name)
    model = spec.build()
    # Distinct weights everywhere: resnet.py shares one seeded initialiser, so a fresh model
    # has identical kernels in same-shaped layers, which the TFLite converter stores once
    # (a 46 MB float32 ResNet-50 instead of 102 MB): smaller files and warmer caches than a
    # trained model would get.
    rng = np.random.default_rng(1)
    model.set_weights(
        [
            w + rng.normal(0, 1e-3, w.shape).astype(w.dtype) if w.ndim > 1 else w
            for w in model.get_weights()
        ]
    )
    classifier = export.Classifier(model, spec)
    rows = {"Keras (predict_on_batch)": (model.predict_on_batch, False, None)}
    path = export.export_model(model, spec, output_dir=workdir)
    serving = tf.saved_model.load(path).signatures["serving_default"]
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)
    rows["SavedModel serving_default"] = (
        lambda x: serving(images=tf.constant(x))["probabilities"],
        True,
        size / 1e6,
    )
    calibration = tflite.representative_images(
        spec, classifier.image_size, "fashion_mnist", steps=calibration_steps
    )
    for quantize in ("none", "float16", "int8"):
        content = tflite.convert(classifier, quantize, calibration if quantize == "int8" else None)
        label = {"none": "float32"}.get(quantize, quantize)
        rows[f"TFLite {label} (XNNPACK)"] = (
            tflite.Runner(content, num_threads=threads),
            False,
            len(content) / 1e6,
        )
    proto = onnx.convert_model(classifier)  # converted once for both files
    for preprocessing, label in ((False, ""), (True, " with preprocessing")):
        content = onnx.convert(classifier, preprocessing, model_proto=proto)
        rows[f"ONNX{label} (onnxruntime)"] = (
            onnx.Runner(content, num_threads=threads),
            preprocessing,
            len(content) / 1e6,
        )
    return rows, classifier.image_size


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="resnet50")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds")
    parser.add_argument("--latency_calls", type=int, default=5, help="batch-1 calls a round")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--calibration_steps", type=int, default=32)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as workdir:
        rows, size = runtimes(args.model, args.threads, args.calibration_steps, workdir)
        rng = np.random.default_rng(0)
        raw = rng.integers(0, 256, (args.batch, size, size, 3)).astype(np.float32)
        spec = keras_classics.get_spec(args.model)
        pre = keras_classics.preprocess_input(raw, spec.input.mode)
        latency = {r: [] for r in rows}
        batch = {r: [] for r in rows}
        for fn, wants_raw, _ in rows.values():  # warm-up: tracing, allocation, XNNPACK packing
            x = raw if wants_raw else pre
            fn(x[:1]), fn(x[:1]), fn(x)
        for _ in range(args.rounds):
            for r, (fn, wants_raw, _) in rows.items():
                x = raw if wants_raw else pre
                latency[r] += [timed(fn, x[:1]) for _ in range(args.latency_calls)]
                batch[r].append(timed(fn, x))
    keras_ms = statistics.median(latency["Keras (predict_on_batch)"]) * 1e3
    print(
        f"{args.model}, {size}x{size}, CPU threads {args.threads} (os.cpu_count() "
        f"{os.cpu_count()}), {args.rounds} rounds, TF {tf.__version__}\n"
    )
    print(
        f"| runtime | latency, batch 1 (ms) | vs Keras | throughput, batch {args.batch} "
        "(images/s) | file (MB) |"
    )
    print("|---|---|---|---|---|")
    for r, (_, _, mb) in rows.items():
        ms = statistics.median(latency[r]) * 1e3
        ips = args.batch / statistics.median(batch[r])
        print(
            f"| {r} | {ms:.1f} | {keras_ms / ms:.2f}x | {ips:.1f} | "
            f"{'' if mb is None else f'{mb:.0f}'} |"
        )


if __name__ == "__main__":
    main()
