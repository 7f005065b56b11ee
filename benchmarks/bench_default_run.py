"""Step and epoch time of the default run (`python train/main.py --model NAME`, the bundled
Fashion-MNIST) for one model per family, as a markdown table for docs/results.md.

    python benchmarks/bench_default_run.py                      # one model per family
    python benchmarks/bench_default_run.py --models resnet18 --steps 3

Each row is the training program's own plan and model (keras_classics/training: image size,
batch, steps per epoch, recipe, optimizer, loss), trained for --warmup + --steps steps of model.fit
on the real input pipeline. A step is timed from one batch end to the next, so input and
callbacks count as in a run; the first step (tracing and compiling) is left out. Epoch time is
steps per epoch x the median step, without the validation pass. Run it on a quiet machine.
"""

import argparse
import os
import statistics
import subprocess
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The TensorFlow settings train/main.py runs with (keras_classics/_environment.py says why).
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("TF_CPU_ALLOCATOR_USE_BFC", "true")

import keras

from keras_classics.training import callbacks, optim
from keras_classics.training.config import RunConfig
from keras_classics.training.run import Run, build_and_compile

ONE_PER_FAMILY = [
    "alexnet",
    "vgg11",
    "googlenet",
    "bn_inception",
    "inception_v3",
    "inception_v4",
    "inception_resnet_v2",
    "resnet18",
    "resnext50_32x4d",
]


class StepEnds(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.ends = []

    def on_train_batch_end(self, batch, logs=None):
        self.ends.append(time.perf_counter())


def cpu_model():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown CPU"
    fields = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    return fields.get("Model name", "unknown CPU").strip()


def time_default_run(name, steps, warmup):
    """(plan, median seconds a step) of the default run of model `name`."""
    run = Run(RunConfig(model=name))
    plan, train_ds, info = run.plan(replicas=1)
    model, _, _ = build_and_compile(run.cfg, run.spec, plan, info.num_classes)
    timer = StepEnds()
    model.fit(
        train_ds.map(optim.one_hot_targets(info.num_classes, len(model.outputs))),
        steps_per_epoch=1 + warmup + steps,
        epochs=1,
        shuffle=False,
        verbose=0,
        callbacks=[timer],
    )
    gaps = [b - a for a, b in zip(timer.ends, timer.ends[1:])][warmup:]
    return plan, statistics.median(gaps)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=ONE_PER_FAMILY, metavar="NAME")
    parser.add_argument("--steps", type=int, default=5, help="timed steps per model")
    parser.add_argument(
        "--warmup", type=int, default=1, help="untimed steps after the compiling one"
    )
    args = parser.parse_args()
    for arg in ("steps", "warmup"):
        if getattr(args, arg) < (1 if arg == "steps" else 0):
            parser.error(
                f"--{arg}={getattr(args, arg)} is invalid; accepted: >= "
                f"{1 if arg == 'steps' else 0}."
            )

    rows = []
    for name in args.models:
        plan, step = time_default_run(name, args.steps, args.warmup)
        rows.append((name, plan, step))
        print(f"{name}: {step:.3f} s/step", flush=True)
        keras.backend.clear_session()

    print(
        f"\n{cpu_model()}, {os.cpu_count()} CPUs; median of {args.steps} steps after "
        f"{1 + args.warmup} untimed; keras {keras.__version__}\n"
    )
    print("| model | image size | batch | s/step | steps/epoch | epoch time | run (epochs) |")
    print("|---|---|---|---|---|---|---|")
    for name, plan, step in rows:
        print(
            f"| {name} | {plan.image_size} | {plan.global_batch_size} | {step:.2f} | "
            f"{plan.steps_per_epoch} | {callbacks.duration(step * plan.steps_per_epoch)} | "
            f"{callbacks.duration(step * plan.total_steps)} ({plan.epochs}) |"
        )


if __name__ == "__main__":
    main()
