"""Optimizer, loss and metrics of a resolved recipe, and the model's compile.

What the logs call what, in history.csv, the curves and results.json alike:
- "loss": the objective the optimizer minimises, Keras' meaning: cross-entropy with the
  recipe's label smoothing, plus the auxiliary heads' losses times their weights.
- "cross_entropy": the main head's plain cross-entropy (no smoothing), comparable across
  recipes and with the papers.
- "top1", "top5": the main head's accuracies.
"""

import keras
import tensorflow as tf

from keras_classics.training import finetune, schedules


def make_optimizer(r, schedule, rate_multipliers=None):
    # rate_multipliers ({variable path: factor}, --body_lr_multiplier): the same optimizers,
    # each variable at its own rate (finetune.PerVariableRates).
    optimizers = finetune.RATED if rate_multipliers else keras.optimizers
    if r.optimizer == "rmsprop":
        # TF-slim's RMSProp: decay 0.9, momentum 0.9, epsilon 1.0 (Rethinking section 8).
        opt = optimizers.RMSprop(
            schedule,
            rho=r.rmsprop_rho,
            momentum=r.momentum,
            epsilon=r.rmsprop_epsilon,
            weight_decay=r.weight_decay,
            global_clipnorm=r.clip_norm,
        )
    else:
        opt = optimizers.SGD(
            schedule, momentum=r.momentum, weight_decay=r.weight_decay, global_clipnorm=r.clip_norm
        )
    if not r.decay_norm_and_bias:
        # BN scale/shift and biases are not decayed (He et al.; Goyal et al. section 5.1).
        opt.exclude_from_weight_decay(var_names=["gamma", "beta", "bias"])
    if rate_multipliers:
        opt.rate_multipliers = dict(rate_multipliers)
    return opt


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
    loss = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=r.label_smoothing)
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
    """(image, label) -> (image, one-hot per output): label smoothing needs dense targets."""

    def fn(image, label):
        y = tf.one_hot(label, num_classes)
        return image, (y if outputs == 1 else tuple(y for _ in range(outputs)))

    return fn
