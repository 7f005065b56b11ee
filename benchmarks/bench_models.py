"""Training-step and inference speed of our builders next to their anchors, in one run.

    python benchmarks/bench_models.py                      # every row, batch 16, CPU
    python benchmarks/bench_models.py --rows resnet50 resnext50_32x4d --steps 6

Each row builds a model, runs model.fit for warm-up + timed steps on random data (batch 16,
SGD momentum, sparse cross-entropy, Keras' default compile settings) and predict_on_batch for
inference; the rounds interleave the models so that machine drift hits all of them alike.
Times are medians. Ratios are what carries between machines; compare them only within a run.
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The TensorFlow settings train/main.py runs with (see the comments there); override them from
# the shell to measure TensorFlow's defaults.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

import keras
import numpy as np

import keras_classics
from keras_classics.layers import Conv2D


def keras_convs(model):
    """The same network with keras.layers.Conv2D in place of our Conv2D and GroupConv2D
    (Conv2D(groups=...) for the grouped ones)."""

    def clone(layer):
        if isinstance(layer, Conv2D):
            return keras.layers.Conv2D.from_config(layer.get_config())
        return layer.__class__.from_config(layer.get_config())

    return keras.models.clone_model(model, clone_function=clone)


def under_policy(policy, factory):
    """`factory`'s model built under the Keras dtype policy `policy` (its layers keep it)."""

    def build():
        previous = keras.config.dtype_policy()
        keras.mixed_precision.set_global_policy(policy)
        try:
            return factory()
        finally:
            keras.mixed_precision.set_global_policy(previous)

    return build


def resnet18_32px():
    return keras_classics.ResNet18(input_shape=(32, 32, 3))


# (row name, anchor row it is compared with or None, input size, model factory)
ROWS = {
    "keras.applications.ResNet50": (None, 224, lambda: keras.applications.ResNet50(weights=None)),
    "resnet50": ("keras.applications.ResNet50", 224, keras_classics.ResNet50),
    "resnext50_32x4d": ("resnet50", 224, keras_classics.ResNeXt50),
    # --mixed_precision on a CPU with AVX512_BF16 or AMX (keras_classics.training.precision).
    "resnet50, mixed_bfloat16": (
        "resnet50",
        224,
        under_policy("mixed_bfloat16", keras_classics.ResNet50),
    ),
    "resnext50_32x4d, mixed_bfloat16": (
        "resnext50_32x4d",
        224,
        under_policy("mixed_bfloat16", keras_classics.ResNeXt50),
    ),
    "resnext50_32x4d, Keras Conv2D(groups=32)": (
        "resnet50",
        224,
        lambda: keras_convs(keras_classics.ResNeXt50()),
    ),
    # The default training run's network and size: the last stage's 3x3 convs see 1x1 maps,
    # where our Conv2D computes only the centre tap (keras_classics/layers/conv.py).
    "resnet18 at 32 px, keras.layers.Conv2D": (None, 32, lambda: keras_convs(resnet18_32px())),
    "resnet18 at 32 px": ("resnet18 at 32 px, keras.layers.Conv2D", 32, resnet18_32px),
    "keras.applications.InceptionV3": (
        None,
        299,
        lambda: keras.applications.InceptionV3(weights=None),
    ),
    "inception_v3": ("keras.applications.InceptionV3", 299, keras_classics.InceptionV3),
    "keras.applications.InceptionResNetV2": (
        None,
        299,
        lambda: keras.applications.InceptionResNetV2(weights=None),
    ),
    "inception_resnet_v2": (
        "keras.applications.InceptionResNetV2",
        299,
        keras_classics.InceptionResNetV2,
    ),
    # keras.applications' network: BN without scale.
    "inception_resnet_v2, bn_scale=False": (
        "keras.applications.InceptionResNetV2",
        299,
        lambda: keras_classics.InceptionResNetV2(bn_scale=False),
    ),
}


class StepTimer(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.times = []

    def on_train_batch_begin(self, batch, logs=None):
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.times.append(time.perf_counter() - self._start)


class Bench:
    """One model, compiled once; each round adds timed training steps and inference calls."""

    def __init__(self, factory, size, batch):
        self.model = factory()
        self.model.compile(
            keras.optimizers.SGD(0.01, momentum=0.9), "sparse_categorical_crossentropy"
        )
        rng = np.random.default_rng(0)
        self.x = rng.uniform(-1, 1, (batch, size, size, 3)).astype("float32")
        self.y = rng.integers(0, 1000, (batch,))
        self.train, self.infer = [], []

    def round(self, steps, warmup):
        timer = StepTimer()
        reps = steps + warmup
        self.model.fit(
            np.repeat(self.x, reps, 0),
            np.repeat(self.y, reps, 0),
            batch_size=len(self.x),
            epochs=1,
            verbose=0,
            callbacks=[timer],
        )
        self.train += timer.times[warmup:]
        self.model.predict_on_batch(self.x)
        for _ in range(steps):
            start = time.perf_counter()
            self.model.predict_on_batch(self.x)
            self.infer.append(time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows",
        nargs="+",
        default=list(ROWS),
        choices=list(ROWS),
        metavar="ROW",
        help=f"rows to run, of: {list(ROWS)}",
    )
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--steps", type=int, default=4, help="timed steps per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args()

    benches = {}
    for name in args.rows:
        _, size, factory = ROWS[name]
        benches[name] = Bench(factory, size, args.batch)
    for r in range(args.rounds):
        for name, bench in benches.items():
            bench.round(args.steps, args.warmup if r == 0 else 1)
            print(
                f"round {r + 1}/{args.rounds} {name}: {statistics.median(bench.train):.3f} s/step",
                flush=True,
            )

    train = {n: statistics.median(b.train) for n, b in benches.items()}
    infer = {n: args.batch / statistics.median(b.infer) for n, b in benches.items()}
    print(
        f"\nbatch {args.batch}, {args.rounds} rounds x {args.steps} steps, "
        f"keras {keras.__version__}, {os.cpu_count()} CPUs\n"
    )
    print("| model | input | train step (s, median) | vs | ratio | inference (img/s) |")
    print("|---|---|---|---|---|---|")
    for name in benches:
        anchor, size, _ = ROWS[name]
        ratio = f"{train[name] / train[anchor]:.2f}" if anchor in train else ""
        print(
            f"| {name} | {size} | {train[name]:.3f} | {anchor if ratio else ''} | {ratio} "
            f"| {infer[name]:.1f} |"
        )


if __name__ == "__main__":
    main()
