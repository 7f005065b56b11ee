"""One training run: model.fit under a tf.distribute strategy with a paper's recipe.

Resumable: every epoch ends with a backup (model, optimizer, epoch, plateau state) through
tf.train.CheckpointManager; the same command run again restores it and goes on. Each epoch's
data is a pure function of (seed, epoch), so under --deterministic a resumed run ends with
the weights of an uninterrupted one. Observable: progress bar, TensorBoard, CSV log, a PNG of
the curves and results.json in the model_dir.
"""

import dataclasses
import importlib
import json
import math
import os
import tempfile
import time
from typing import Optional

import keras
import numpy as np
import tensorflow as tf

import keras_classics
import keras_classics.data
from keras_classics import fileio
from keras_classics.training import distribute, plot, recipes, schedules

SOURCES = ("fashion_mnist", "imagenet", "folder")
# The bundled dataset: small images and a short run, so that the default command finishes in
# minutes on a CPU (README: the default run).
# - The modern recipe unless --recipe is given: a 3-epoch run needs its warm-up and its decay to
#   zero. Measured (ResNet-18, 32 px, batch 128, README): the papers' step schedules left the
#   network at 85-86% test top-1 after 2 or 3 epochs (CIFAR recipe, LR 0.1), while 300 steps
#   of warm-up + cosine reached 89% at the modern recipe's LR (0.1 per 256) and 86% at 0.1.
# - No augmentation: in so short a run the CIFAR recipe's pad-and-crop + flip ("pad_crop", the
#   data library's Fashion-MNIST default) costs accuracy (measured: a small CNN after 300 steps,
#   85.8% test top-1 without, 78.9% with); --augmentation pad_crop with more --epochs gives
#   the paper's.
BUNDLED = dict(epochs=3, batch_size=128, image_size=32, augmentation="none", recipe="modern")
IDENTITY_KEYS = ("model", "dataset", "recipe", "image_size", "global_batch_size")


@dataclasses.dataclass
class RunConfig:
    model: str
    dataset: str = "fashion_mnist"
    data_dir: Optional[str] = None
    model_dir: Optional[str] = None
    epochs: Optional[int] = None
    batch_size: Optional[int] = None
    image_size: Optional[int] = None
    augmentation: Optional[str] = None
    recipe: Optional[str] = None   # default: recipe_kind()
    learning_rate: Optional[float] = None
    weight_decay: Optional[float] = None
    mixed_precision: bool = False
    jit_compile: bool = False
    sync_batchnorm: bool = False
    strategy: str = "auto"
    num_gpus: Optional[int] = None
    steps_per_epoch: Optional[int] = None
    max_steps: Optional[int] = None
    validation_steps: Optional[int] = None
    seed: int = 0
    deterministic: bool = False
    skip_errors: bool = False
    label_offset: Optional[int] = None
    export: bool = False
    eval_only: bool = False
    checkpoint: Optional[str] = None


def bundled_defaults(cfg):
    return BUNDLED if cfg.dataset == "fashion_mnist" else {}


def recipe_kind(cfg):
    """--recipe, or the bundled dataset's default, or "paper"."""
    return cfg.recipe or bundled_defaults(cfg).get("recipe") or "paper"


def check_config(cfg):
    """Every refusal that does not need TensorFlow devices; returns the model's spec."""
    spec = keras_classics.get_spec(cfg.model)
    if cfg.dataset not in SOURCES and not cfg.dataset.startswith("tfds:"):
        raise ValueError(f"dataset={cfg.dataset!r} is invalid; accepted: {SOURCES} or "
                         "'tfds:NAME'.")
    if cfg.dataset in ("imagenet", "folder"):
        if not cfg.data_dir or not os.path.isdir(cfg.data_dir):
            raise ValueError(f"data_dir={cfg.data_dir!r} is not a directory; dataset "
                             f"{cfg.dataset!r} needs the directory that holds it.")
    for arg in ("epochs", "batch_size", "image_size", "steps_per_epoch", "max_steps",
                "validation_steps", "num_gpus"):
        value = getattr(cfg, arg)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value < (0 if arg == "num_gpus" else 1)):
            raise ValueError(f"{arg}={value!r} is invalid; accepted: a positive integer.")
    size = image_size(cfg, spec)
    low = spec.default_size if spec.fixed_head else spec.min_size
    if size < low or (spec.fixed_head and size != spec.default_size):
        what = (f"exactly {spec.default_size} (its fully connected head is built for that "
                "size)" if spec.fixed_head else f">= {spec.min_size}")
        raise ValueError(f"image_size={size} is invalid for {spec.name}; accepted: {what}.")
    if cfg.eval_only != bool(cfg.checkpoint):
        raise ValueError(f"eval_only={cfg.eval_only} with checkpoint={cfg.checkpoint!r} "
                         "conflict; accepted: --eval_only together with --checkpoint PATH.")
    if cfg.checkpoint and not os.path.isfile(cfg.checkpoint):
        raise ValueError(f"checkpoint={cfg.checkpoint!r} does not exist.")
    if cfg.eval_only and cfg.export:
        raise ValueError("--eval_only and --export conflict; accepted: one of them.")
    if cfg.learning_rate is not None and not cfg.learning_rate > 0:
        raise ValueError(f"learning_rate={cfg.learning_rate} is invalid; accepted: > 0.")
    if cfg.weight_decay is not None and not cfg.weight_decay >= 0:
        raise ValueError(f"weight_decay={cfg.weight_decay} is invalid; accepted: >= 0.")
    recipes.recipe_for(spec, recipe_kind(cfg))
    if cfg.augmentation is not None:
        keras_classics.data.train_preprocessing.check_augmentation(cfg.augmentation)
    if cfg.export:
        try:
            importlib.import_module("keras_classics.export")
        except ImportError as err:
            raise ValueError(f"--export needs keras_classics.export, which is not "
                             f"available here ({err}).") from err
    return spec


def image_size(cfg, spec):
    if cfg.image_size:
        return cfg.image_size
    bundled = bundled_defaults(cfg).get("image_size")
    if bundled and not spec.fixed_head:
        return max(bundled, spec.min_size)
    return spec.default_size


def model_dir_of(cfg):
    return cfg.model_dir or os.path.join("runs", cfg.model)


def claim_model_dir(model_dir, identity):
    """Refuse a model_dir that holds another run; record this run's identity."""
    path = os.path.join(model_dir, "run.json")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            held = json.load(f)
        clash = {k: (held.get(k), identity[k]) for k in IDENTITY_KEYS
                 if held.get(k) != identity[k]}
        if clash:
            raise ValueError(
                f"model_dir={model_dir!r} holds another run "
                + ", ".join(f"{k}: {a!r} there, {b!r} here" for k, (a, b) in clash.items())
                + "; accepted: a new --model_dir, or the same settings to resume that run.")
        return True
    fileio.write_json(path, identity)
    return False


def one_hot_targets(num_classes, outputs):
    """(image, label) -> (image, one-hot per output): label smoothing needs dense targets."""
    def fn(image, label):
        y = tf.one_hot(label, num_classes)
        return image, (y if outputs == 1 else tuple(y for _ in range(outputs)))
    return fn


def synchronized_batchnorm(model):
    """The same model with BatchNormalization computing statistics over the global batch.

    Under MirroredStrategy each replica otherwise normalises with its own share of the batch;
    synchronised statistics make N replicas compute what one device does with the whole batch.
    """
    def clone(layer):
        config = layer.get_config()
        if isinstance(layer, keras.layers.BatchNormalization):
            config["synchronized"] = True
        return layer.__class__.from_config(config)
    clone_ = keras.models.clone_model(model, clone_function=clone)
    clone_.set_weights(model.get_weights())
    return clone_


def make_optimizer(r, schedule):
    if r.optimizer == "rmsprop":
        # TF-slim's RMSProp: decay 0.9, momentum 0.9, epsilon 1.0 (Rethinking section 8).
        opt = keras.optimizers.RMSprop(schedule, rho=r.rmsprop_rho, momentum=r.momentum,
                                       epsilon=r.rmsprop_epsilon, weight_decay=r.weight_decay,
                                       global_clipnorm=r.clip_norm)
    else:
        opt = keras.optimizers.SGD(schedule, momentum=r.momentum,
                                   weight_decay=r.weight_decay, global_clipnorm=r.clip_norm)
    if not r.decay_norm_and_bias:
        # BN scale/shift and biases are not decayed (He et al.; Goyal et al. section 5.1).
        opt.exclude_from_weight_decay(var_names=["gamma", "beta", "bias"])
    return opt


def compile_model(model, r, optimizer, jit_compile):
    """Loss per output (aux heads weighted by the spec), top-1/top-5 on the main head."""
    loss = keras.losses.CategoricalCrossentropy(from_logits=True,
                                                label_smoothing=r.label_smoothing)
    metrics = [keras.metrics.CategoricalAccuracy(name="top1"),
               keras.metrics.TopKCategoricalAccuracy(5, name="top5")]
    n_out = len(model.outputs)
    model.compile(optimizer=optimizer,
                  loss=loss if n_out == 1 else [loss] * n_out,
                  loss_weights=None if n_out == 1 else [1.0, *r.aux_loss_weights],
                  metrics=metrics if n_out == 1 else [metrics] + [[]] * (n_out - 1),
                  jit_compile=jit_compile)


class NaNGuard(keras.callbacks.TerminateOnNaN):
    """TerminateOnNaN that remembers where, so the run ends with a clear error."""
    diverged_at = None

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.diverged_at = batch
        super().on_batch_end(batch, logs)


class EpochEnd(keras.callbacks.Callback):
    """Backup, last and best weights at the end of every epoch (atomic writes)."""

    def __init__(self, run):
        super().__init__()
        self.run = run

    def on_epoch_end(self, epoch, logs=None):
        run = self.run
        run.epoch.assign(epoch + 1)
        top1 = (logs or {}).get(run.monitor)
        improved = top1 is not None and top1 > float(run.best.numpy())
        if improved:
            run.best.assign(top1)
        if run.chief:
            inference = keras_classics.inference_model(run.model)
            names = ["last.weights.h5"] + (["best.weights.h5"] if improved else [])
            for name in names:
                with fileio.atomic_path(run.path(name), ".weights.h5") as tmp:
                    inference.save_weights(tmp)
        # Every worker saves (a collective under MultiWorkerMirroredStrategy); only the
        # chief's directory is the real one.
        run.manager.save(checkpoint_number=epoch + 1)


class Run:
    def __init__(self, cfg):
        self.cfg = cfg
        self.spec = check_config(cfg)
        self.model_dir = model_dir_of(cfg)
        self.chief = distribute.is_chief()

    def path(self, name):
        return os.path.join(self.model_dir, name)

    def scratch_dir(self):
        scratch = tempfile.TemporaryDirectory(prefix="keras_classics-worker-")
        self._scratch = scratch  # removed when the run (and with it this object) ends
        return scratch.name

    def datasets(self, epoch=None):
        """The epoch's training data (seeded by seed and epoch) or, without epoch, eval data."""
        cfg = self.cfg
        training = epoch is not None
        split = "train" if training else ("test" if cfg.dataset == "fashion_mnist"
                                          else "validation")
        ds, info = keras_classics.data.get_dataset(
            cfg.dataset, split, model=self.spec, global_batch_size=self.batch,
            training=training, image_size=self.size, data_dir=cfg.data_dir,
            seed=cfg.seed, epoch=epoch, deterministic=cfg.deterministic,
            skip_errors=cfg.skip_errors, label_offset=cfg.label_offset,
            augmentation=cfg.augmentation or bundled_defaults(cfg).get("augmentation"))
        return ds, info

    def run(self):
        cfg = self.cfg
        # First: MultiWorkerMirroredStrategy must configure collectives before any TF op.
        strategy = self.strategy = distribute.make_strategy(cfg.strategy, cfg.num_gpus)
        keras.utils.set_random_seed(cfg.seed)
        if cfg.deterministic:
            tf.config.experimental.enable_op_determinism()
        if cfg.mixed_precision:
            keras.mixed_precision.set_global_policy("mixed_float16")
        replicas = strategy.num_replicas_in_sync
        self.recipe = recipe_kind(cfg)
        recipe = recipes.recipe_for(self.spec, self.recipe, cfg.dataset)
        bundled = bundled_defaults(cfg)
        self.batch = cfg.batch_size or bundled.get("batch_size") or recipe.batch_size
        if self.batch % replicas:
            raise ValueError(f"batch_size={self.batch} is not divisible by the {replicas} "
                             "replicas; accepted: a multiple of the replica count (it is the "
                             "global batch, split evenly across replicas).")
        self.size = image_size(cfg, self.spec)
        # The auxiliary heads (GoogLeNet, Inception-v3) are built for the paper's input size;
        # smaller images (the bundled dataset) train the main head alone.
        self.use_aux = bool(self.spec.aux_loss_weights) and self.size >= self.spec.default_size
        epochs = cfg.epochs or bundled.get("epochs") or recipe.epochs

        train_ds, info = self.datasets(epoch=0)
        eval_ds, _ = self.datasets()
        steps = cfg.steps_per_epoch or max(1, (info.num_examples or 0) // self.batch)
        if cfg.max_steps:
            epochs = min(epochs, math.ceil(cfg.max_steps / steps))
        r = recipes.resolve(self.spec, kind=self.recipe, dataset=cfg.dataset,
                            global_batch_size=self.batch,
                            epochs=epochs, steps_per_epoch=steps,
                            learning_rate=cfg.learning_rate, weight_decay=cfg.weight_decay)
        identity = dict(model=self.spec.name, dataset=cfg.dataset, recipe=self.recipe,
                        image_size=self.size, global_batch_size=self.batch)
        if cfg.eval_only:
            return self.evaluate_only(strategy, r, info, eval_ds)
        resuming = claim_model_dir(self.model_dir, identity) if self.chief else False
        print(f"{self.spec.name} on {cfg.dataset} ({info.num_classes} classes, "
              f"{info.num_examples} training examples), {replicas} replica(s) of "
              f"{distribute.name_of(strategy)}, image {self.size}, global batch {self.batch}\n"
              f"recipe: {r.to_json()}", flush=True)
        if self.chief:
            fileio.write_text(self.path("recipe.json"), r.to_json() + "\n")

        with strategy.scope():
            model = self.spec.build(classes=info.num_classes, input_shape=(self.size,) * 2 + (3,),
                                    classifier_activation=None,
                                    **({"aux_logits": True} if self.use_aux else {}))
            if cfg.sync_batchnorm:
                model = synchronized_batchnorm(model)
            schedule = schedules.from_resolved(r)
            optimizer = make_optimizer(r, schedule)
            compile_model(model, r, optimizer, cfg.jit_compile)
            distribute.fit_under_multi_worker(model, strategy)
            optimizer.build(model.trainable_variables)
            plateau = schedules.PlateauDecay(schedule, self.monitor_of(model),
                                             r.plateau_patience)
            self.model, self.epoch = model, tf.Variable(0, trainable=False, name="epoch")
            self.best = tf.Variable(-math.inf, trainable=False, name="best_top1")
            self.monitor = self.monitor_of(model)
            checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer, epoch=self.epoch,
                                             best=self.best, **plateau.variables())
            # Workers other than the chief back up to a private directory, removed at exit.
            backup_dir = self.path("backup") if self.chief else self.scratch_dir()
            self.manager = tf.train.CheckpointManager(checkpoint, backup_dir, max_to_keep=2)
            if self.manager.latest_checkpoint:
                checkpoint.restore(self.manager.latest_checkpoint).assert_existing_objects_matched()
                print(f"resuming from {self.manager.latest_checkpoint} "
                      f"(epoch {int(self.epoch.numpy())})", flush=True)

        guard = NaNGuard()
        callbacks = [guard, plateau, EpochEnd(self)]
        if self.chief:
            callbacks += [keras.callbacks.CSVLogger(self.path("history.csv"), append=True),
                          keras.callbacks.TensorBoard(self.path("logs"))]
        if cfg.skip_errors:
            callbacks.append(info.callback())
        start, prior = time.time(), self.prior_wall_seconds()
        first = int(self.epoch.numpy())
        for epoch in range(first, epochs):
            ds = train_ds if epoch == 0 else self.datasets(epoch=epoch)[0]
            remaining = cfg.max_steps - epoch * steps if cfg.max_steps else steps
            model.fit(ds.map(one_hot_targets(info.num_classes, len(model.outputs))),
                      validation_data=eval_ds.map(one_hot_targets(info.num_classes,
                                                                  len(model.outputs))),
                      validation_steps=cfg.validation_steps, initial_epoch=epoch,
                      epochs=epoch + 1, steps_per_epoch=min(steps, remaining),
                      callbacks=callbacks, verbose=1 if self.chief else 0)
            if guard.diverged_at is not None:
                raise RuntimeError(
                    f"Training diverged: the loss became NaN or infinite at epoch {epoch + 1}, "
                    f"batch {guard.diverged_at}. Lower --learning_rate (now "
                    f"{r.base_learning_rate:g}) or use --recipe modern (warm-up).")
        wall = prior + time.time() - start
        results = self.evaluate(model, r, info, eval_ds, epochs, wall)
        if self.chief:
            fileio.write_json(self.path("results.json"), results)
            plot.training_curves(self.path("history.csv"), self.path("curves.png"),
                                 title=f"{self.spec.name} on {cfg.dataset}")
        if cfg.export:
            self.export(model, info)
        return results

    @staticmethod
    def monitor_of(model):
        prefix = "" if len(model.outputs) == 1 else f"{model.output_names[0]}_"
        return f"val_{prefix}top1"

    def prior_wall_seconds(self):
        path = self.path("results.json")
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                return json.load(f).get("wall_seconds", 0.0)
        return 0.0

    def evaluate(self, model, r, info, eval_ds, epochs, wall):
        """Top-1/top-5/loss of the main head on the evaluation split."""
        with self.strategy.scope():  # a model made outside the scope can't take its data
            inference = keras_classics.inference_model(model)
            compile_model(inference, dataclasses.replace(r, label_smoothing=0.0), "sgd", False)
        scores = inference.evaluate(eval_ds.map(one_hot_targets(info.num_classes, 1)),
                                    steps=self.cfg.validation_steps, return_dict=True,
                                    verbose=0)
        return {"model": self.spec.name, "dataset": self.cfg.dataset,
                "epochs": int(self.epoch.numpy()) if hasattr(self, "epoch") else epochs,
                "wall_seconds": round(wall, 1), "image_size": self.size,
                "global_batch_size": self.batch, "recipe": self.recipe,
                "class_names": list(info.class_names),
                "eval": {"top1": float(scores["top1"]), "top5": float(scores["top5"]),
                         "loss": float(scores["loss"])}}

    def evaluate_only(self, strategy, r, info, eval_ds):
        with strategy.scope():
            model = self.spec.build(classes=info.num_classes,
                                    input_shape=(self.size,) * 2 + (3,),
                                    classifier_activation=None, weights=self.cfg.checkpoint)
        start = time.time()
        results = self.evaluate(model, r, info, eval_ds, 0, 0.0)
        results.update(checkpoint=self.cfg.checkpoint, wall_seconds=round(time.time() - start, 1))
        if self.chief:
            fileio.write_json(self.path("eval_results.json"), results)
        print(json.dumps(results["eval"]))
        return results

    def export(self, model, info):
        from keras_classics import export
        # The pipeline's eval crop (1.0 for whole-frame Fashion-MNIST), so that the served
        # predictions are the evaluated ones.
        export.export_trained(keras_classics.inference_model(model), self.spec,
                              class_names=info.class_names, image_size=self.size,
                              crop_ratio=info.crop_ratio)


def train(cfg):
    """Runs `cfg` (a RunConfig); returns the results dict also written to results.json."""
    return Run(cfg).run()
