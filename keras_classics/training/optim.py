"""Optimizer, loss and metrics of a resolved recipe, and the model's compile.

What the logs call what, in history.csv, the curves and results.json alike:
- "loss": the objective the optimizer minimises, Keras' meaning: cross-entropy with the
  recipe's label smoothing (binary cross-entropy with `loss="binary"`), on the mixed targets
  with MixUp/CutMix, plus the auxiliary heads' losses times their weights.
- "cross_entropy": the main head's plain cross-entropy (no smoothing), comparable across
  recipes and with the papers.
- "top1", "top5": the main head's accuracies (in training, of the mixed target's argmax).

With the recipe's ema_decay the optimizer keeps an exponential moving average of the
trainable weights (Keras' use_ema); `ema_weights` swaps it into the model for validation,
the results, the weights files and the export (run.py, callbacks.py); the backups hold both.
"""

import contextlib

import keras
import tensorflow as tf

from keras_classics.training import agc, finetune, schedules


def make_optimizer(r, schedule, rate_multipliers=None):
    # rate_multipliers ({variable path: factor}, --body_lr_multiplier): the same optimizers,
    # each variable at its own rate (finetune.PerVariableRates).
    optimizers = finetune.RATED if rate_multipliers else keras.optimizers
    ema = {"use_ema": True, "ema_momentum": r.ema_decay} if r.ema_decay else {}
    if r.optimizer == "lamb":
        opt = optimizers.Lamb(
            schedule, weight_decay=r.weight_decay, global_clipnorm=r.clip_norm, **ema
        )
    elif r.optimizer == "rmsprop":
        # TF-slim's RMSProp: decay 0.9, momentum 0.9, epsilon 1.0 (Rethinking section 8).
        opt = optimizers.RMSprop(
            schedule,
            rho=r.rmsprop_rho,
            momentum=r.momentum,
            epsilon=r.rmsprop_epsilon,
            weight_decay=r.weight_decay,
            global_clipnorm=r.clip_norm,
            **ema,
        )
    else:
        opt = optimizers.SGD(
            schedule,
            momentum=r.momentum,
            nesterov=r.nesterov,
            weight_decay=r.weight_decay,
            global_clipnorm=r.clip_norm,
            **ema,
        )
    if not r.decay_norm_and_bias:
        # BN scale/shift and biases are not decayed (He et al.; Goyal et al. section 5.1), nor
        # the normalizer-free nets' conv and skip gains (nfnets/experiment.py's partition).
        opt.exclude_from_weight_decay(var_names=["gamma", "beta", "bias", "gain"])
    if r.ema_decay:
        # Keras' fit ends by overwriting the model's weights with their EMA
        # (finalize_variable_values, keras/src/backend/tensorflow/trainer.py). The program
        # runs one fit per epoch (callbacks.OneEpoch), so each epoch would restart training
        # from the average; the EMA is swapped in where it is used instead (ema_weights).
        opt.finalize_variable_values = lambda var_list: None
    if rate_multipliers:
        opt.rate_multipliers = dict(rate_multipliers)
    if r.agc_clip:
        # Adaptive gradient clipping on the replicas' summed gradient (agc.py), not Keras'
        # per-replica clipnorm.
        agc.enable(opt, r.agc_clip)
    return opt


def _ema_optimizer(model):
    opt = model.optimizer
    opt = getattr(opt, "inner_optimizer", opt)  # LossScaleOptimizer (mixed precision)
    return opt if getattr(opt, "use_ema", False) else None


def _swap_ema(opt):
    # Not keras.callbacks.SwapEMAWeights: on TensorFlow it swaps in place by arithmetic
    # (a += b; b = a - b; a -= b), which is inexact in floating point: a swap in and out,
    # emulated in NumPy on float32 N(0, 0.05) weights and an EMA 1e-3 from them, changed half
    # of the raw weights (by up to 1.5e-8), so training would go on from other weights after
    # every validation. A copy swaps exactly (the same private lists SwapEMAWeights reads);
    # assign on a MirroredVariable in cross-replica context, where callbacks run, writes
    # every replica.
    for var, average in zip(opt._trainable_variables, opt._model_variables_moving_average):
        raw = tf.identity(var.value)
        var.assign(average)
        average.assign(raw)


class EMAWeights(keras.callbacks.Callback):
    """Evaluation (fit's validation, evaluate) on the EMA weights, training on the raw ones."""

    def on_test_begin(self, logs=None):
        _swap_ema(_ema_optimizer(self.model))

    def on_test_end(self, logs=None):
        _swap_ema(_ema_optimizer(self.model))


def ema_callbacks(model):
    """[EMAWeights()] when the model's optimizer keeps an EMA of the weights, else []."""
    return [EMAWeights()] if _ema_optimizer(model) else []


@contextlib.contextmanager
def ema_weights(model):
    """Inside the block the model holds the EMA of its trainable weights, when its optimizer
    keeps one; outside, the raw ones."""
    opt = _ema_optimizer(model)
    if opt is None:
        yield model
        return
    _swap_ema(opt)
    try:
        yield model
    finally:
        _swap_ema(opt)


class TopKAccuracy(keras.metrics.TopKCategoricalAccuracy):
    """TopKCategoricalAccuracy of predictions in any float dtype: TensorFlow's InTopK op,
    which it runs on, takes float32 only (a float64 model, the replica-equivalence checks',
    or float16 logits would fail there; tensorflow/tensorflow#34406)."""

    def update_state(self, y_true, y_pred, sample_weight=None):
        return super().update_state(y_true, tf.cast(y_pred, "float32"), sample_weight)


def metrics():
    return [
        keras.metrics.CategoricalAccuracy(name="top1"),
        TopKAccuracy(5, name="top5"),
        keras.metrics.CategoricalCrossentropy(from_logits=True, name="cross_entropy"),
    ]


def compile_model(model, r, optimizer, jit_compile=False):
    """Loss per output (aux heads weighted by the recipe), metrics on the main head."""
    if r.loss == "binary":
        # One-vs-all on the (mixed) targets, as ResNet strikes back trains (recipes.RSB_A3).
        loss = keras.losses.BinaryCrossentropy(from_logits=True, label_smoothing=r.label_smoothing)
    else:
        loss = keras.losses.CategoricalCrossentropy(
            from_logits=True, label_smoothing=r.label_smoothing
        )
    n_out = len(model.outputs)
    model.compile(
        optimizer=optimizer,
        loss=loss if n_out == 1 else [loss] * n_out,
        loss_weights=None if n_out == 1 else [1.0, *r.aux_loss_weights],
        metrics=metrics() if n_out == 1 else [metrics()] + [[]] * (n_out - 1),
        jit_compile=jit_compile,
    )
    # The optimizer's slots are made now, eagerly (in the caller's strategy scope): left to
    # the first step, without a strategy Keras makes them inside the train function's trace
    # and traces it twice (keras/src/backend/tensorflow/trainer.py, _maybe_symbolic_build):
    # Inception-v3's first train_on_batch took 22.6 s instead of 12.2 s (AVX2 EPYC).
    model.optimizer.build(model.trainable_variables)


def compile_for_recipe(model, r, jit_compile=False, rate_multipliers=None):
    """Compiles `model` with the resolved recipe `r`'s schedule, optimizer, losses and
    metrics; returns (schedule, optimizer). rate_multipliers: see make_optimizer."""
    schedule = schedules.from_resolved(r)
    optimizer = make_optimizer(r, schedule, rate_multipliers)
    compile_model(model, r, optimizer, jit_compile)
    return schedule, optimizer


def main_head_key(model, metric, prefix=""):
    """The log key of the main head's `metric`: Keras prefixes it with the output's name when
    the model has several outputs ("predictions_top1")."""
    head = "" if len(model.outputs) == 1 else f"{model.output_names[0]}_"
    return f"{prefix}{head}{metric}"


def one_hot_targets(num_classes, outputs):
    """(image, label) -> (image, one-hot per output): label smoothing needs dense targets.
    Float labels (MixUp/CutMix's mixtures, data/mixing.py) are already dense."""

    def fn(image, label):
        y = label if label.dtype.is_floating else tf.one_hot(label, num_classes)
        return image, (y if outputs == 1 else tuple(y for _ in range(outputs)))

    return fn
