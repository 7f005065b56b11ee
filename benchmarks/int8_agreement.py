"""TFLite int8 against TFLite float32 of trained runs, on the bundled Fashion-MNIST test set.

    python train/main.py --model mobilenet_v2 --model_dir runs/mobilenet_v2
    python benchmarks/int8_agreement.py runs/mobilenet_v2 runs/resnet18

For each run directory (train/main.py's, on the bundled dataset): its best weights as the
export builds them (keras_classics.export.Classifier, the run's image size, whole-frame crop),
converted to TFLite float32 and to full-integer int8 calibrated on 200 training images (the
export command's `--format tflite --quantize int8`, keras_classics.export.tflite), both run on
the 10,000 test images through the evaluation pipeline. Prints the top-1 agreement of int8
with float32 and each one's accuracy, with the CPU model.
"""

import argparse
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

import numpy as np
from bench_models import cpu_model

import keras_classics
from keras_classics import export
from keras_classics.data import get_dataset
from keras_classics.export import tflite


def evaluation_set(name, size):
    """(preprocessed images, labels) of the whole test split, as the run evaluated them."""
    test, _ = get_dataset(
        "fashion_mnist",
        "test",
        model=name,
        global_batch_size=500,
        training=False,
        image_size=size,
        deterministic=True,
        normalize=True,  # the plain model the export converts takes normalised floats
    )
    batches = [(x.numpy(), y.numpy()) for x, y in test]
    return np.concatenate([x for x, _ in batches]), np.concatenate([y for _, y in batches])


def top1(runner, x, batch=500):
    return np.concatenate([runner(x[i : i + batch]).argmax(1) for i in range(0, len(x), batch)])


def measure(run_dir):
    with open(os.path.join(run_dir, "results.json")) as f:
        results = json.load(f)
    name, size = results["model"], results["image_size"]
    if results["dataset"] != "fashion_mnist":
        raise ValueError(
            f"run_dir={run_dir!r} trained on {results['dataset']!r}; accepted: a run on the "
            "bundled fashion_mnist."
        )
    spec = keras_classics.get_spec(name)
    classes = results["class_names"]
    model = spec.build(
        classes=len(classes),
        input_shape=(size, size, 3),
        classifier_activation=None,
        weights=os.path.join(run_dir, "best.weights.h5"),
    )
    classifier = export.Classifier(model, spec, classes, crop_ratio=1.0)
    x, y = evaluation_set(name, size)
    float32 = top1(tflite.Runner(tflite.convert(classifier, "none"), num_threads=2), x)
    calibration = tflite.representative_images(spec, size)  # the export command's 200
    int8 = top1(tflite.Runner(tflite.convert(classifier, "int8", calibration), num_threads=2), x)
    return {
        "model": name,
        "image size": size,
        "test images": len(y),
        "int8 top-1 agreement with float32": float(np.mean(int8 == float32)),
        "float32 accuracy": float(np.mean(float32 == y)),
        "int8 accuracy": float(np.mean(int8 == y)),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dirs", nargs="+", help="train/main.py model_dirs")
    args = parser.parse_args()
    print(f"CPU: {cpu_model()}")
    for run_dir in args.run_dirs:
        print(json.dumps(measure(run_dir)), flush=True)


if __name__ == "__main__":
    main()
