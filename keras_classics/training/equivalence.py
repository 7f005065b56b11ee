"""Do N replicas train what one device trains? The training program's step, side by side.

`train_state(strategy, name, ...)` trains `name` for a few steps as train/main.py does (the
run's plan, data, recipe, optimizer, compile and keras' model.fit, with for_replicas'
layers) under `strategy`, and returns every variable afterwards: weights, BatchNorm moving
statistics and optimizer slots. `differences(a, b)` compares two such states tensor by tensor,
relative to each tensor's largest value.

Why float64 by default: the computation is chaotic in float32. On the bundled data a
random-init ResNet-18's gradients change by about 5% when its weights change by one float32
rounding step (tests/training/test_equivalence.py shows it on one device): a ReLU whose input
is within rounding of zero flips, and the trajectories separate. Any other order of the same
sums (two replicas add their halves of a batch, then the halves) is such a change, so in
float32 N replicas and one device part after a few steps however right the strategy is. In
float64 rounding is about 1e-16, too small to flip a ReLU, and what remains of a difference
is what the replicas compute differently: a lost or doubled gradient, per-replica dropout
masks, per-replica BatchNorm statistics.

    python -m keras_classics.training.equivalence --cpu_devices 2 --models resnet18,alexnet
"""

import argparse
import dataclasses
import json
import os
import sys

import keras
import numpy as np
import tensorflow as tf

import keras_classics
from keras_classics.models._heads import classifier_dtype
from keras_classics.training import distribute, optim
from keras_classics.training import plan as plan_module
from keras_classics.training import run as run_module
from keras_classics.training.config import RunConfig

# The models the family modules name for this check (ModelSpec.replica_check, with the
# reasons for each size, head and dtype), in registry order.
_CHECKED = {
    name: check
    for name in keras_classics.list_models()
    if (check := keras_classics.get_spec(name).replica_check) is not None
}
# One model per family: (registry name, image size, include_top, dtype). float64 where
# float32 is chaotic (module docstring).
REPRESENTATIVES = tuple(
    (name, c.image_size, c.include_top, c.dtype) for name, c in _CHECKED.items() if not c.pending
)
# Builder options of a representative's comparison.
OPTIONS = {
    name: dict(c.builder_options)
    for name, c in _CHECKED.items()
    if c.builder_options and not c.pending
}
# Training steps of each representative's comparison.
STEPS = {name: c.steps for name, c in _CHECKED.items()}
# Models whose runs part even in float64 (docs/roadmap.md), not yet explained, so not yet
# shown equivalent (their family is, by another model).
PENDING = tuple(
    (name, c.image_size, c.include_top, c.dtype) for name, c in _CHECKED.items() if c.pending
)


def train_state(
    strategy,
    name,
    *,
    steps=None,
    global_batch_size=8,
    image_size=None,
    include_top=True,
    dtype="float64",
    sync_batchnorm=True,
    global_batch_dropout=True,
    seed=0,
    builder_options=None,
    run_eagerly=False,
):
    """{variable path: array} after `steps` training steps of `name` under `strategy`, from
    the same seed, data and recipe as train/main.py on the bundled dataset.
    global_batch_dropout=False keeps keras.layers.Dropout (what the program trained before
    for_replicas), to show what it changes. builder_options (default OPTIONS[name], if any)
    are passed to the model's builder; steps defaults to the model's ReplicaCheck's.
    run_eagerly=True runs Keras' step function without compiling it (Model.run_eagerly): the
    same step, `strategy.run` and cross-replica reductions, without the tracing that is most
    of a few steps' cost (the program compiles it)."""
    steps = STEPS.get(name, 5) if steps is None else steps
    cfg = RunConfig.from_flags(
        model=name,
        batch_size=global_batch_size,
        max_steps=steps,
        deterministic=True,
        sync_batchnorm=sync_batchnorm,
        seed=seed,
        model_dir=os.devnull,  # nothing is written
    )
    run = run_module.Run(cfg)
    options = OPTIONS.get(name, {}) if builder_options is None else builder_options
    spec = dataclasses.replace(run.spec, builder_kwargs={**run.spec.builder_kwargs, **options})
    tf.config.experimental.enable_op_determinism()
    keras.backend.clear_session()  # the same layer names, hence variable paths, every time
    keras.utils.set_random_seed(seed)
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(dtype)
    try:
        # The size is given to the data directly: the run's checks refuse a fixed-head model
        # below its input size, which the pooled head takes.
        train_ds, info = run.dataset(
            global_batch_size,
            image_size or plan_module.requested_image_size(cfg, run.spec),
            epoch=0,
        )
        plan = plan_module.make_plan(cfg, run.spec, info, strategy.num_replicas_in_sync)
        with strategy.scope():
            if include_top:
                model, _, optimizer = run_module.build_and_compile(
                    cfg, spec, plan, info.num_classes, global_batch_dropout
                )
            else:
                pooled = pooled_head_model(
                    spec,
                    plan.image_size,
                    info.num_classes,
                    input_tensor=run_module.pixels_input(run.spec, plan.image_size),
                )
                run_module.set_batchnorm_momentum(pooled, plan.resolved.bn_momentum)
                model = distribute.for_replicas(
                    pooled,
                    sync_batchnorm=cfg.runtime.sync_batchnorm,
                    global_batch_dropout=global_batch_dropout,
                )
                _, optimizer = optim.compile_for_recipe(model, plan.resolved)
            distribute.fit_under_multi_worker(model, strategy)
        model.run_eagerly = run_eagerly
        targets = optim.one_hot_targets(info.num_classes, len(model.outputs))
        model.fit(
            train_ds.map(targets),
            epochs=1,
            steps_per_epoch=steps,
            shuffle=False,
            verbose=0,
        )
        state = {f"weights/{v.path}": np.array(v.numpy()) for v in model.weights}
        state |= {f"optimizer/{v.path}": np.array(v.numpy()) for v in optimizer.variables}
        return state
    finally:
        keras.config.set_dtype_policy(previous)


def pooled_head_model(spec, size, num_classes, input_tensor=None):
    """The body of `spec`'s model at `size` under global average pooling and a classifier
    (for a fixed-head model, below the size its fully connected head takes); on
    `input_tensor` if given (run.pixels_input)."""
    body = spec.build(
        include_top=False,
        pooling="avg",
        input_shape=None if input_tensor is not None else (size, size, 3),
        input_tensor=input_tensor,
    )
    outputs = keras.layers.Dense(num_classes, name="predictions", dtype=classifier_dtype())(
        body.output
    )
    return keras.Model(body.inputs[0], outputs, name=body.name)


def gradient_change(name="resnet18", *, relative_change, dtype="float32", batch=16, seed=0):
    """max over variables of |g(w') - g(w)| / max |g(w)|: how much the training loss's
    gradients at random initialisation change when every weight is multiplied by
    (1 + relative_change * N(0, 1)), on one device, in `dtype`, on random images."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    spec = keras_classics.get_spec(name)
    size = max(32, spec.min_size)
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(dtype)
    try:
        model = spec.build(classes=10, input_shape=(size, size, 3), classifier_activation=None)
    finally:
        keras.config.set_dtype_policy(previous)
    x = tf.constant(rng.normal(size=(batch, size, size, 3)), dtype)
    y = tf.constant(np.eye(10)[rng.integers(0, 10, batch)], dtype)

    # Dropout draws a new mask on every call: each call starts from the same generator state,
    # so that only the weights differ between the two gradients.
    generators = [
        layer.seed_generator for layer in model.layers if hasattr(layer, "seed_generator")
    ]
    states = [g.state.numpy() for g in generators]

    def gradients():
        for g, state in zip(generators, states):
            g.state.assign(state)
        with tf.GradientTape() as tape:
            logits = model(x, training=True)
            loss = tf.reduce_mean(keras.losses.categorical_crossentropy(y, logits, True))
        return [g.numpy() for g in tape.gradient(loss, model.trainable_variables)]

    weights = [w.numpy() for w in model.trainable_variables]
    before = gradients()
    for v, w in zip(model.trainable_variables, weights):
        v.assign(w * (1 + relative_change * rng.standard_normal(w.shape)))
    after = gradients()
    return max(float(np.abs(a - b).max() / np.abs(a).max()) for a, b in zip(before, after))


# A tensor whose largest value is below this share of the state's largest is zero up to
# float64 rounding (its noise, ~1e-16 of the largest value a step, stays far below the 1e-4
# bound relative to this floor). MobileNetV2's linear bottlenecks make some exactly zero in
# exact arithmetic (a project BN's beta gradient, which the next BN removes; an expand BN's
# moving mean over inputs of batch mean zero); rounding leaves them near 1e-19, where a
# difference relative to the tensor would compare noise with noise.
ROUNDING_ZERO = 1e-8


def differences(a, b):
    """{path: max |a - b| / max |a|} over the tensors of two train_state results; a tensor
    that is zero in `a`, or zero up to rounding (below ROUNDING_ZERO of the state's largest
    value), is compared relative to that floor (or absolutely, where the state is zero)."""
    if a.keys() != b.keys():
        raise ValueError(f"the states hold other variables: {sorted(a.keys() ^ b.keys())}")
    largest = max(
        (float(np.abs(np.asarray(x)).max()) for x in a.values() if np.size(x)), default=0.0
    )
    floor = ROUNDING_ZERO * largest
    out = {}
    for path, x in a.items():
        x, y = np.asarray(x, np.float64), np.asarray(b[path], np.float64)
        scale = max(float(np.abs(x).max()), floor) if x.size else 0.0
        out[path] = float(np.abs(x - y).max()) / (scale or 1.0) if x.size else 0.0
    return out


def compare(name, replicas, **kwargs):
    """(one device's state, `replicas` replicas' state, their differences) for `name`; the
    process must have `replicas` devices (CPUs split by use_cpu_devices, or GPUs)."""
    gpus = [d.name for d in tf.config.list_logical_devices("GPU")]
    devices = gpus or [d.name for d in tf.config.list_logical_devices("CPU")]
    if len(devices) < replicas:
        raise ValueError(
            f"replicas={replicas} is invalid here; accepted: at most {len(devices)}, the "
            "devices of this process (split the CPU with --cpu_devices)."
        )
    one = train_state(tf.distribute.OneDeviceStrategy(devices[0]), name, **kwargs)
    many = train_state(distribute.mirrored(devices[:replicas]), name, **kwargs)
    return one, many, differences(one, many)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(r[0] for r in REPRESENTATIVES))
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--cpu_devices", type=int, default=0, help="split the CPU into N")
    parser.add_argument("--steps", type=int, help="default: each model's ReplicaCheck's")
    parser.add_argument(
        "--dtype", choices=("float64", "float32"), help="default: REPRESENTATIVES' (float64)"
    )
    parser.add_argument("--no_sync_batchnorm", action="store_true")
    parser.add_argument(
        "--keras_dropout", action="store_true", help="keep keras.layers.Dropout (the drift before)"
    )
    parser.add_argument(
        "--eager", action="store_true", help="run the step uncompiled (train_state's run_eagerly)"
    )
    parser.add_argument("--json", help="write {model: {path: difference}} here")
    args = parser.parse_args(argv)
    if args.cpu_devices:
        distribute.use_cpu_devices(args.cpu_devices)
    rows = {name: (size, top, dtype) for name, size, top, dtype in REPRESENTATIVES + PENDING}
    report = {}
    for name in args.models.split(","):
        size, top, dtype = rows.get(name, (None, True, args.dtype))
        _, _, diff = compare(
            name,
            args.replicas,
            steps=args.steps,
            image_size=size,
            include_top=top,
            dtype=args.dtype or dtype,
            sync_batchnorm=not args.no_sync_batchnorm,
            global_batch_dropout=not args.keras_dropout,
            run_eagerly=args.eager,
        )
        report[name] = diff
        worst = max(diff, key=diff.get)
        print(f"{name}: worst {diff[worst]:.2e} ({worst}) over {len(diff)} tensors", flush=True)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(report, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
