"""The GPU check: MirroredStrategy over every visible GPU, mixed precision, in a few minutes.

    python benchmarks/gpu_check.py [--steps 30] [--batch_per_gpu 128] [--json out.json]

For ResNet-50, ResNeXt-50 and Inception-v3 it prints, with --mixed_precision's policy
(keras_classics.training.precision: mixed_float16 on GPUs):
- images/s of the training step on synthetic data (the data already on the device: compute);
- images/s of the same step fed by the training pipeline (keras_classics.data.get_dataset on
  the bundled Fashion-MNIST, resized to the model's input size, with the family's
  augmentation), and the split of a step into compute and input wait (the step time beyond
  the synthetic one);
and then the replica equivalence of keras_classics.training.equivalence (one device against
all GPUs, or against two logical halves of a single GPU, in a fresh process), per model, as
the largest relative difference of any tensor after five steps.

It needs no dataset download and writes nothing but --json. On a machine without GPUs it
refuses (--allow_cpu runs the same code on the CPU at a tiny size, to check the script).
"""

import argparse
import json
import os
import subprocess
import sys
import time

MODELS = ("resnet50", "resnext50_32x4d", "inception_v3")


def step_function(model, strategy):
    import tensorflow as tf

    @tf.function
    def step(iterator):
        strategy.run(model.train_step, args=(next(iterator),))

    return step


def images_per_second(model, strategy, dataset, steps, global_batch):
    """(images/s, seconds a step) of `steps` training steps on `dataset`, after two warm-up
    steps (tracing and autotuning)."""
    iterator = iter(strategy.experimental_distribute_dataset(dataset))
    step = step_function(model, strategy)
    for _ in range(2):
        step(iterator)
    _sync(model)
    start = time.perf_counter()
    for _ in range(steps):
        step(iterator)
    _sync(model)
    seconds = (time.perf_counter() - start) / steps
    return global_batch / seconds, seconds


def _sync(model):
    # Reading a variable waits for the steps queued before it.
    float(model.optimizer.iterations.numpy())


def measure(name, strategy, args):
    import keras
    import numpy as np
    import tensorflow as tf

    import keras_classics
    import keras_classics.data
    from keras_classics.training import distribute, optim, recipes
    from keras_classics.training.run import build_on_pixels

    spec = keras_classics.get_spec(name)
    size = args.size or spec.input.size
    global_batch = args.batch_per_gpu * strategy.num_replicas_in_sync
    keras.backend.clear_session()
    with strategy.scope():
        # As the training program: uint8 pixels in, normalised on the GPUs.
        model = distribute.for_replicas(build_on_pixels(spec, size, 10))
        r = recipes.resolve(
            spec,
            kind="modern",
            dataset="fashion_mnist",
            global_batch_size=global_batch,
            epochs=1,
            steps_per_epoch=1000,
        )
        optim.compile_for_recipe(model, r)
        model.optimizer.build(model.trainable_variables)
    targets = optim.one_hot_targets(10, 1)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (global_batch, size, size, 3)).astype("uint8")
    y = rng.integers(0, 10, global_batch).astype("int32")
    synthetic = tf.data.Dataset.from_tensors((x, y)).map(targets).repeat()
    synth_ips, synth_s = images_per_second(model, strategy, synthetic, args.steps, global_batch)
    real, _ = keras_classics.data.get_dataset(
        "fashion_mnist",
        "train",
        model=spec,
        global_batch_size=global_batch,
        training=True,
        image_size=size,
        seed=0,
        epoch=0,
    )
    real_ips, real_s = images_per_second(
        model, strategy, real.map(targets).repeat(), args.steps, global_batch
    )
    return {
        "model": name,
        "image_size": size,
        "global_batch": global_batch,
        "synthetic_images_per_s": round(synth_ips, 1),
        "pipeline_images_per_s": round(real_ips, 1),
        "step_ms": round(1000 * real_s, 1),
        "compute_ms": round(1000 * synth_s, 1),
        "input_wait_ms": round(1000 * max(0.0, real_s - synth_s), 1),
    }


def equivalence(models, devices):
    """Runs keras_classics.training.equivalence in a fresh process: one device against
    `devices` replicas (two logical halves of the GPU when there is one)."""
    code = (
        "import sys, tensorflow as tf\n"
        "gpus = tf.config.list_physical_devices('GPU')\n"
        "if len(gpus) == 1:\n"
        "    tf.config.set_logical_device_configuration(gpus[0], [\n"
        "        tf.config.LogicalDeviceConfiguration(memory_limit=6000)] * 2)\n"
        "from keras_classics.training import equivalence\n"
        "sys.exit(equivalence.main(sys.argv[1:]))\n"
    )
    argv = ["--models", ",".join(models), "--replicas", str(max(2, devices))]
    if not devices:  # --allow_cpu: two logical CPUs
        argv += ["--cpu_devices", "2"]
    result = subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=900
    )
    lines = [line for line in result.stdout.splitlines() if ": worst " in line]
    return lines or [result.stderr[-2000:]]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--batch_per_gpu", type=int, default=128)
    parser.add_argument("--size", type=int, help="input size (default: each model's)")
    parser.add_argument("--equivalence_models", default="resnet18,googlenet,alexnet")
    parser.add_argument("--allow_cpu", action="store_true")
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    from keras_classics.training import distribute, precision

    gpus = tf.config.list_logical_devices("GPU")
    if not gpus and not args.allow_cpu:
        sys.exit("no GPU visible; accepted: a machine with GPUs (or --allow_cpu to test this)")
    policy, why = (
        precision.pick_policy(len(gpus)) if gpus else ("mixed_bfloat16", "CPU script check")
    )
    keras.mixed_precision.set_global_policy(policy)
    strategy = distribute.mirrored([d.name for d in gpus] or ["/cpu:0"])
    print(f"{strategy.num_replicas_in_sync} replica(s), {policy} ({why})", flush=True)
    report = {"policy": policy, "replicas": strategy.num_replicas_in_sync, "models": []}
    for name in args.models.split(","):
        row = measure(name, strategy, args)
        report["models"].append(row)
        print(json.dumps(row), flush=True)
    keras.mixed_precision.set_global_policy("float32")
    report["equivalence"] = equivalence(args.equivalence_models.split(","), len(gpus))
    print("\n".join(report["equivalence"]))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
