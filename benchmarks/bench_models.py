"""Training-step and inference speed of our builders next to their anchors, in one run.

    python benchmarks/bench_models.py                      # every row, batch 16, CPU
    python benchmarks/bench_models.py --rows resnet50 resnext50_32x4d --steps 6

Each row builds a model, runs model.fit for warm-up + timed steps on random data (batch 16,
SGD momentum, sparse cross-entropy, Keras' default compile settings) and predict_on_batch for
inference; the rounds interleave the models so that machine drift hits all of them alike.
Times are medians. Ratios are what carries between machines; compare them only within a run.

With PyTorch and torchvision installed (CI's parity extra), the torchvision rows train
torchvision's models the same way in the same process (SGD momentum, cross-entropy, random
data of the same shape, NCHW as torchvision trains by default, torch's threads = the CPUs);
their ratio is torchvision's step over ours, so >= 1 means ours is as fast or faster.
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
from keras_classics.training import agc


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


def nfnet_f0_at(size):
    """NFNet-F0 at its training size (its builder's default is the 256 it is evaluated at)."""
    return keras_classics.NFNetF0(input_shape=(size, size, 3))


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
    # The series' part 2 anchors (the goal: our step <= the fastest Keras peer's).
    "keras.applications.DenseNet121": (
        None,
        224,
        lambda: keras.applications.DenseNet121(weights=None),
    ),
    "densenet121": ("keras.applications.DenseNet121", 224, keras_classics.DenseNet121),
    "keras.applications.MobileNetV2": (
        None,
        224,
        lambda: keras.applications.MobileNetV2(weights=None),
    ),
    "mobilenet_v2": ("keras.applications.MobileNetV2", 224, keras_classics.MobileNetV2),
    "keras.applications.MobileNetV3Large": (
        None,
        224,
        lambda: keras.applications.MobileNetV3Large(weights=None),
    ),
    "mobilenet_v3_large": (
        "keras.applications.MobileNetV3Large",
        224,
        keras_classics.MobileNetV3Large,
    ),
    # Hu et al. 2018 compare SE-ResNet-50's cost with ResNet-50's: about 10% more time a
    # training step on their GPUs, 0.26% more multiply-adds.
    "seresnet50": ("resnet50", 224, keras_classics.SEResNet50),
    # The series' part 3 anchor (the goal: our step <= the fastest Keras peer's).
    "keras.applications.EfficientNetB0": (
        None,
        224,
        lambda: keras.applications.EfficientNetB0(weights=None),
    ),
    "efficientnet_b0": (
        "keras.applications.EfficientNetB0",
        224,
        keras_classics.EfficientNetB0,
    ),
    # NFNet-F0's adaptive gradient clipping (Brock et al. 2021, section 4.1) against the same
    # network trained without it: AGC's overhead, at F0's training size.
    "nfnet_f0": (None, 192, lambda: nfnet_f0_at(192)),
    "nfnet_f0, AGC 0.01": ("nfnet_f0", 192, lambda: nfnet_f0_at(192)),
}
# Rows whose optimizer clips its gradients adaptively (keras_classics/training/agc.py).
AGC_ROWS = {"nfnet_f0, AGC 0.01": 0.01}


def keras_hub_classifier(timm_architecture, num_features=None):
    """keras-hub's backbone + ImageClassifier of a timm architecture, built from the backbone
    config keras-hub's own timm converter derives (no preset is downloaded); the counts equal
    torchvision's (densenet121 7,978,856; mobilenetv3_large_100 5,483,032)."""

    def build():
        import keras_hub
        from keras_hub.src.utils.timm import (
            convert_densenet,
            convert_efficientnet,
            convert_mobilenet,
        )

        families = {
            "densenet": ("DenseNet", convert_densenet),
            "mobilenet": ("MobileNet", convert_mobilenet),
            "efficientnet": ("EfficientNet", convert_efficientnet),
        }
        family, converter = next(v for k, v in families.items() if timm_architecture.startswith(k))
        config = converter.convert_backbone_config({"architecture": timm_architecture})
        backbone = getattr(keras_hub.models, f"{family}Backbone")(
            **config, image_shape=(224, 224, 3)
        )
        extra = {"num_features": num_features} if num_features else {}
        return getattr(keras_hub.models, f"{family}ImageClassifier")(
            backbone, num_classes=1000, **extra
        )

    return build


# keras-hub rows (keras-hub 0.32 in the benchmark's own environment, not a dependency of the
# package: docs/dependencies.md): name -> (row compared with, size, factory).
KERAS_HUB_ROWS = {
    "keras-hub DenseNet-121": (
        "keras.applications.DenseNet121",
        224,
        keras_hub_classifier("densenet121"),
    ),
    "keras-hub MobileNetV3Large": (
        "keras.applications.MobileNetV3Large",
        224,
        keras_hub_classifier("mobilenetv3_large_100", num_features=1280),
    ),
    "keras-hub EfficientNet-B0": (
        "keras.applications.EfficientNetB0",
        224,
        keras_hub_classifier("efficientnet_b0"),
    ),
}

# torchvision rows: name -> (our row it is compared with, input size, torchvision builder).
TORCHVISION_ROWS = {
    "torchvision resnet50": ("resnet50", 224, "resnet50"),
    "torchvision resnext50_32x4d": ("resnext50_32x4d", 224, "resnext50_32x4d"),
    "torchvision densenet121": ("keras.applications.DenseNet121", 224, "densenet121"),
    "torchvision mobilenet_v2": ("keras.applications.MobileNetV2", 224, "mobilenet_v2"),
    "torchvision mobilenet_v3_large": (
        "keras.applications.MobileNetV3Large",
        224,
        "mobilenet_v3_large",
    ),
    "torchvision efficientnet_b0": (
        "keras.applications.EfficientNetB0",
        224,
        "efficientnet_b0",
    ),
}


class TorchBench:
    """Bench's rounds for a torchvision model: the same batch shape, optimizer and loss."""

    def __init__(self, builder, size, batch):
        import sys

        # torchvision imports torch._dynamo, which loads triton when installed: after
        # TensorFlow that segfaults (tests/convert/convert_parity.py, block_triton).
        sys.modules.setdefault("triton", None)
        import torch
        import torchvision

        torch.set_num_threads(os.cpu_count())
        torch.manual_seed(0)
        self.torch = torch
        self.model = getattr(torchvision.models, builder)(weights=None)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.01, momentum=0.9)
        self.loss = torch.nn.CrossEntropyLoss()
        self.x = torch.rand(batch, 3, size, size) * 2 - 1
        self.y = torch.randint(0, 1000, (batch,))
        self.train, self.infer = [], []

    def step(self):
        self.optimizer.zero_grad(set_to_none=True)
        self.loss(self.model(self.x), self.y).backward()
        self.optimizer.step()

    def round(self, steps, warmup):
        self.model.train()
        for i in range(steps + warmup):
            start = time.perf_counter()
            self.step()
            if i >= warmup:
                self.train.append(time.perf_counter() - start)
        self.model.eval()
        with self.torch.inference_mode():
            self.model(self.x)
            for _ in range(steps):
                start = time.perf_counter()
                self.model(self.x)
                self.infer.append(time.perf_counter() - start)


def available(*modules):
    import importlib.util

    return all(importlib.util.find_spec(m) for m in modules)


def cpu_model():
    """The CPU's model name, as lscpu prints it (figures are compared within one CPU only)."""
    with open("/proc/cpuinfo") as info:
        names = [line.split(":", 1)[1].strip() for line in info if line.startswith("model name")]
    return names[0] if names else "unknown CPU"


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

    def __init__(self, factory, size, batch, agc_clip=None):
        self.model = factory()
        optimizer = keras.optimizers.SGD(0.01, momentum=0.9)
        if agc_clip:
            agc.enable(optimizer, agc_clip)
        self.model.compile(optimizer, "sparse_categorical_crossentropy")
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
    rows = {
        **ROWS,
        **(KERAS_HUB_ROWS if available("keras_hub") else {}),
        **(TORCHVISION_ROWS if available("torch", "torchvision") else {}),
    }
    parser.add_argument(
        "--rows",
        nargs="+",
        default=list(rows),
        choices=list(rows),
        metavar="ROW",
        help=f"rows to run, of: {list(rows)}",
    )
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--steps", type=int, default=4, help="timed steps per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args()

    benches = {}
    for name in args.rows:
        _, size, factory = rows[name]
        if name in TORCHVISION_ROWS:
            benches[name] = TorchBench(factory, size, args.batch)
        else:
            benches[name] = Bench(factory, size, args.batch, AGC_ROWS.get(name))
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
        f"keras {keras.__version__}, {os.cpu_count()} CPUs, {cpu_model()}\n"
    )
    print("| model | input | train step (s, median) | vs | ratio | inference (img/s) |")
    print("|---|---|---|---|---|---|")
    for name in benches:
        anchor, size, _ = rows[name]
        ratio = f"{train[name] / train[anchor]:.2f}" if anchor in train else ""
        print(
            f"| {name} | {size} | {train[name]:.3f} | {anchor if ratio else ''} | {ratio} "
            f"| {infer[name]:.1f} |"
        )


if __name__ == "__main__":
    main()
