"""One training run: model.fit under a tf.distribute strategy with a paper's recipe.

`train(cfg)` checks the config, computes the run's plan (plan.py: batch, size, epochs, steps,
recipe), prints it in a few lines (report.py; the whole recipe goes to recipe.json) and
executes it, ending with a summary: the scores, the wall time, the files and the export
command. Resumable: every epoch ends with a backup (model, optimizer, epoch, plateau state)
through tf.train.CheckpointManager; the same command run again restores it and goes on. Each
epoch's data is a pure function of (seed, epoch), so under --deterministic a resumed run ends
with the weights of an uninterrupted one. Observable: progress bar, an early estimate of the
run's duration, TensorBoard, CSV log, a PNG of the curves, results.json and class_names.txt in
the model_dir (optim.py says what their "loss" means).
"""

import json
import math
import os
import tempfile
import time

import keras
import tensorflow as tf

import keras_classics
import keras_classics.data
from keras_classics import export
from keras_classics.data import service
from keras_classics.data.mixing import Mixing
from keras_classics.layers import InputNormalization
from keras_classics.records import fileio
from keras_classics.training import (
    callbacks,
    defaults,
    distribute,
    finetune,
    model_dir,
    optim,
    plot,
    precision,
    recipes,
    report,
    schedules,
)
from keras_classics.training.config import RunConfig, check_config, model_dir_of, run_recipe
from keras_classics.training.plan import global_batch_size, make_plan, requested_image_size

__all__ = ["RunConfig", "train"]


class Run:
    def __init__(self, cfg):
        self.cfg = cfg
        self.spec = check_config(cfg)
        self.recipe = run_recipe(cfg, self.spec)
        self.model_dir = model_dir_of(cfg)
        self.chief = distribute.is_chief()

    def path(self, name):
        return os.path.join(self.model_dir, name)

    def scratch_dir(self):
        scratch = tempfile.TemporaryDirectory(prefix="keras_classics-worker-")
        self._scratch = scratch  # removed when the run (and with it this object) ends
        return scratch.name

    def dataset(self, batch, size, epoch=None):
        """The epoch's training data (seeded by seed and epoch) or, without epoch, the
        evaluation data (split "validation"; Fashion-MNIST's is its test set)."""
        data, recipe = self.cfg.data, self.recipe
        training = epoch is not None
        pieces = {}
        if training:
            pieces = {
                "randaugment": recipe.randaugment,
                "random_erasing": recipe.random_erasing,
                "mix": Mixing(recipe.mixup, recipe.cutmix, recipe.mix_prob, recipe.mix_switch_prob),
            }
        ds, info = keras_classics.data.get_dataset(
            data.dataset,
            "train" if training else "validation",
            model=self.spec,
            global_batch_size=batch,
            training=training,
            image_size=size,
            data_dir=data.data_dir,
            seed=self.cfg.runtime.seed,
            epoch=epoch,
            deterministic=self.cfg.runtime.deterministic,
            skip_errors=data.skip_errors,
            label_offset=data.label_offset,
            augmentation=data.augmentation or defaults.for_dataset(data.dataset).augmentation,
            **pieces,
            classes=finetune.parse_classes(self.cfg.finetune.classes),
        )
        # Training only: its decoding and augmentation are the CPU work worth sending away.
        # Evaluation stays here: a centre crop, scored on the same batches every epoch (the
        # first --validation_steps of them), which "dynamic" would change from epoch to epoch.
        # No job name: each iteration (fit's, or one a strategy opens first) is then its own
        # job, the whole epoch from its start, as the local dataset's iterations are
        # (keras_classics/data/service.py).
        if training and data.data_service:
            ds = service.distribute(
                ds, data.data_service, policy=data.data_service_policy or service.DEFAULT_POLICY
            )
        return ds, info

    def plan(self, replicas):
        """(RunPlan, the first epoch's data, its DatasetInfo): the plan needs the number of
        examples and the image size the data library chose."""
        train_ds, info = self.dataset(
            global_batch_size(self.cfg, self.spec),
            requested_image_size(self.cfg, self.spec),
            epoch=0,
        )
        return make_plan(self.cfg, self.spec, info, replicas), train_ds, info

    def run(self):
        cfg, runtime = self.cfg, self.cfg.runtime
        # First: MultiWorkerMirroredStrategy must configure collectives before any TF op.
        strategy = self.strategy = distribute.make_strategy(runtime.strategy, runtime.num_gpus)
        keras.utils.set_random_seed(runtime.seed)
        if runtime.deterministic:
            tf.config.experimental.enable_op_determinism()
        if runtime.mixed_precision:
            policy, why = precision.pick_policy(len(tf.config.list_logical_devices("GPU")))
            keras.mixed_precision.set_global_policy(policy)
            print(f"mixed precision: {policy} ({why})", flush=True)
        plan, train_ds, info = self.plan(strategy.num_replicas_in_sync)
        eval_ds, _ = self.dataset(plan.global_batch_size, plan.image_size)
        if cfg.eval_only:
            return self.evaluate_only(plan, info, eval_ds)
        resuming = model_dir.claim(self.model_dir, plan.identity()) if self.chief else False
        print(
            report.plan_text(
                plan,
                info,
                strategy.num_replicas_in_sync,
                distribute.name_of(strategy),
                self.path("recipe.json"),
            ),
            flush=True,
        )
        if self.chief:
            fileio.write_text(self.path("recipe.json"), plan.resolved.to_json() + "\n")
        return self.execute(plan, info, train_ds, eval_ds, resuming)

    def execute(self, plan, info, train_ds, eval_ds, resuming):
        cfg, r, strategy = self.cfg, plan.resolved, self.strategy
        with strategy.scope():
            model, schedule, optimizer = build_and_compile(cfg, self.spec, plan, info.num_classes)
            distribute.fit_under_multi_worker(model, strategy)
            monitor = optim.main_head_key(model, "top1", prefix="val_")
            plateau = schedules.PlateauDecay(schedule, monitor, r.plateau_patience)
            epoch = tf.Variable(0, trainable=False, name="epoch")
            best = tf.Variable(-math.inf, trainable=False, name="best_top1")
            checkpoint = tf.train.Checkpoint(
                model=model, optimizer=optimizer, epoch=epoch, best=best, **plateau.variables()
            )
            # Workers other than the chief back up to a private directory, removed at exit.
            backup_dir = self.path("backup") if self.chief else self.scratch_dir()
            manager = tf.train.CheckpointManager(checkpoint, backup_dir, max_to_keep=2)
            if manager.latest_checkpoint:
                checkpoint.restore(manager.latest_checkpoint).assert_existing_objects_matched()
                print(
                    f"resuming from {manager.latest_checkpoint} (epoch {int(epoch.numpy())})",
                    flush=True,
                )

        first = int(epoch.numpy())
        guard = callbacks.NaNGuard()
        run_callbacks = [
            *optim.ema_callbacks(model),  # validation scores the EMA weights
            guard,
            plateau,
            callbacks.OneEpoch(),
            callbacks.EpochEnd(
                manager, epoch, best, monitor, self.model_dir if self.chief else None
            ),
        ]
        if self.chief:
            run_callbacks += [
                callbacks.StepTimeEstimate(plan.total_steps - first * plan.steps_per_epoch),
                keras.callbacks.CSVLogger(self.path("history.csv"), append=True),
                keras.callbacks.TensorBoard(self.path("logs")),
            ]
        if cfg.data.skip_errors:
            run_callbacks.append(info.callback())
        targets = optim.one_hot_targets(info.num_classes, len(model.outputs))
        start, prior = time.time(), model_dir.prior_wall_seconds(self.model_dir)
        for k in range(first, plan.epochs):
            ds = (
                train_ds
                if k == 0
                else self.dataset(plan.global_batch_size, plan.image_size, epoch=k)[0]
            )
            # shuffle=False: the pipeline shuffles each epoch's data (seeded by seed and
            # epoch); Keras cannot shuffle a tf.data.Dataset and warns when asked to.
            model.fit(
                ds.map(targets),
                validation_data=eval_ds.map(targets),
                validation_steps=cfg.runtime.validation_steps,
                initial_epoch=k,
                epochs=plan.epochs,
                steps_per_epoch=plan.steps_in(k),
                shuffle=False,
                callbacks=run_callbacks,
                verbose=1 if self.chief else 0,
            )
            if guard.diverged_at is not None:
                raise RuntimeError(
                    f"Training diverged: the loss became NaN or infinite at epoch {k + 1}, "
                    f"batch {guard.diverged_at}. Lower --learning_rate (now "
                    f"{r.base_learning_rate:g}) or use --recipe modern (warm-up)."
                )
        results = self.results(
            plan, info, model, eval_ds, targets, int(epoch.numpy()), prior + time.time() - start
        )
        if self.chief:
            fileio.write_json(self.path("results.json"), results)
            fileio.write_text(
                self.path("class_names.txt"), "".join(f"{n}\n" for n in info.class_names)
            )
            plot.training_curves(
                self.path("history.csv"),
                self.path("curves.png"),
                title=f"{plan.model} on {plan.dataset}",
            )
        if cfg.export:
            self.export(model, plan, info)
        if self.chief:
            command = report.export_command(
                plan.model,
                self.path("best.weights.h5"),
                info.num_classes,
                plan.image_size,
                info.input.crop_ratio,
                class_names=self.path("class_names.txt"),
            )
            print(report.summary_text(results, report.run_files(self.model_dir), command))
        return results

    def results(self, plan, info, model, eval_ds, targets, epochs, wall):
        """results.json: the evaluation split scored as the validation of every epoch was
        (the same compiled model, so "loss" is the training objective, optim.py)."""
        scores = model.evaluate(
            eval_ds.map(targets),
            steps=self.cfg.runtime.validation_steps,
            return_dict=True,
            verbose=0,
            callbacks=optim.ema_callbacks(model),
        )
        return {
            "model": plan.model,
            "dataset": plan.dataset,
            "epochs": epochs,
            "steps": plan.total_steps,
            "wall_seconds": round(wall, 1),
            "image_size": plan.image_size,
            "global_batch_size": plan.global_batch_size,
            "recipe": plan.recipe,
            "class_names": list(info.class_names),
            "eval": {
                name: float(scores[optim.main_head_key(model, name)])
                for name in ("top1", "top5", "cross_entropy")
            }
            | {"loss": float(scores["loss"])},
        }

    def evaluate_only(self, plan, info, eval_ds):
        with self.strategy.scope():
            model = build_on_pixels(
                self.spec, plan.image_size, info.num_classes, weights=self.cfg.checkpoint
            )
            optim.compile_model(model, plan.resolved, "sgd")
        start = time.time()
        results = self.results(
            plan, info, model, eval_ds, optim.one_hot_targets(info.num_classes, 1), 0, 0.0
        )
        results.update(checkpoint=self.cfg.checkpoint, wall_seconds=round(time.time() - start, 1))
        if self.chief:
            fileio.write_json(self.path("eval_results.json"), results)
        print(json.dumps(results["eval"]))
        return results

    def export(self, model, plan, info):
        # The pipeline's input record (its size, the source's eval crop: 1.0 for whole-frame
        # Fashion-MNIST), so that the served predictions are the evaluated ones.
        with optim.ema_weights(model):
            export.export_trained(
                keras_classics.inference_model(plain_model(model)),
                self.spec,
                class_names=info.class_names,
                input_config=info.input,
            )


# The name of the InputNormalization layer the program puts in front of every model it trains.
INPUT_NORMALIZATION = "input_normalization"


def pixels_input(spec, image_size):
    """The normalised input tensor of a model trained on uint8 pixel batches, the pipeline's
    output: a uint8 Input, then InputNormalization with the spec's preprocessing mode (as
    get_dataset's InputConfig), so that the cast and normalisation run on the model's
    device. Pass it as a builder's input_tensor."""

    pixels = keras.Input((image_size, image_size, 3), dtype="uint8", name="pixels")
    return InputNormalization(spec.input.mode, name=INPUT_NORMALIZATION)(pixels)


def build_on_pixels(spec, image_size, num_classes, **options):
    """`spec`'s model (logits) on uint8 pixels (pixels_input). Its weights are the plain
    model's, layer by layer (plain_model), and its weights files load into either."""
    return spec.build(
        classes=num_classes,
        input_tensor=pixels_input(spec, image_size),
        classifier_activation=None,
        **options,
    )


def plain_model(model):
    """The model of build_on_pixels without its InputNormalization: normalised float inputs,
    as keras_classics' builders take them (the export's serving graph normalises itself),
    the same layer objects and weights."""
    inputs = model.get_layer(INPUT_NORMALIZATION).output
    return keras.Model(
        inputs, model.outputs if len(model.outputs) > 1 else model.output, name=model.name
    )


def stochastic_depth_option(spec, rate):
    """The builder option of the recipe's stochastic depth rate, for the families that have it
    (recipes.STOCHASTIC_DEPTH_OPTION): 0 builds no StochasticDepth layer, whatever the builder's
    default; run_recipe refused a rate above 0 for the others."""
    if not recipes.has_stochastic_depth(spec):
        return {}
    return {recipes.STOCHASTIC_DEPTH_OPTION: rate}


def set_batchnorm_momentum(model, momentum):
    """Every BatchNormalization of `model` with moving-average `momentum` (the recipe's
    bn_momentum); None keeps each layer's own. Before the first trace: a layer reads its
    momentum when its training step is traced, and clones (for_replicas) copy it."""
    if momentum is None:
        return
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = momentum


def build_and_compile(cfg, spec, plan, num_classes, global_batch_dropout=True):
    """The run's model on uint8 pixels (build_on_pixels), compiled with its recipe's
    optimizer and loss (in the caller's strategy scope); returns (model, schedule,
    optimizer). global_batch_dropout: see distribute.for_replicas."""
    model = build_on_pixels(
        spec,
        plan.image_size,
        num_classes,
        weights=cfg.finetune.weights,
        **({"aux_logits": True} if plan.use_aux else {}),
        **stochastic_depth_option(spec, plan.resolved.stochastic_depth),
    )
    set_batchnorm_momentum(model, plan.resolved.bn_momentum)
    model = distribute.for_replicas(
        model, sync_batchnorm=cfg.runtime.sync_batchnorm, global_batch_dropout=global_batch_dropout
    )
    rates = finetune.prepare(model, cfg.finetune)  # --freeze, --body_lr_multiplier
    schedule, optimizer = optim.compile_for_recipe(
        model, plan.resolved, cfg.runtime.jit_compile, rates
    )
    return model, schedule, optimizer


def train(cfg):
    """Runs `cfg` (a RunConfig); returns the results dict also written to results.json."""
    return Run(cfg).run()
