"""The learning-rate schedule of every recipe: one registered Keras schedule."""

import math

import keras
import tensorflow as tf

SCHEDULES = ("plateau", "steps", "exponential", "cosine", "linear")


@keras.saving.register_keras_serializable(package="keras_classics")
class RecipeSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """lr(step) = base * warmup(step) * shape(step) * plateau_scale.

    shape: "steps" divides by 10 at each of `boundaries`; "exponential" multiplies by
    `decay_rate` every `decay_steps` (staircase, as the Inception and GoogLeNet papers);
    "cosine" falls from 1 to 0 over the steps after warm-up, "linear" likewise in a straight
    line (ShuffleNet's, Zhang et al. 2018, section 4); "plateau" is 1 and the
    PlateauDecay callback divides `plateau_scale` by 10 when validation accuracy stalls.
    warmup(step) = min(1, (step + 1) / warmup_steps), linear (Goyal et al. 2017).
    """

    def __init__(
        self,
        base,
        kind,
        total_steps,
        boundaries=(),
        decay_steps=1,
        decay_rate=1.0,
        warmup_steps=0,
        plateau_scale=1.0,
    ):
        if kind not in SCHEDULES:
            raise ValueError(f"schedule kind={kind!r} is invalid; accepted: {SCHEDULES}.")
        self.base = float(base)
        self.kind = kind
        self.total_steps = int(total_steps)
        self.boundaries = tuple(int(b) for b in boundaries)
        self.decay_steps = int(decay_steps)
        self.decay_rate = float(decay_rate)
        self.warmup_steps = int(warmup_steps)
        self.plateau_scale = tf.Variable(
            float(plateau_scale), trainable=False, dtype=tf.float32, name="plateau_scale"
        )

    def _shape(self, step):
        if self.kind == "steps":
            passed = tf.reduce_sum(
                tf.cast(step >= tf.constant(self.boundaries or (2**62,), tf.float32), tf.float32)
            )
            return tf.pow(0.1, passed)
        if self.kind == "exponential":
            return tf.pow(self.decay_rate, tf.floor(step / self.decay_steps))
        if self.kind == "cosine":
            span = max(self.total_steps - self.warmup_steps, 1)
            done = tf.clip_by_value((step - self.warmup_steps) / span, 0.0, 1.0)
            return 0.5 * (1.0 + tf.cos(math.pi * done))
        if self.kind == "linear":
            span = max(self.total_steps - self.warmup_steps, 1)
            return 1.0 - tf.clip_by_value((step - self.warmup_steps) / span, 0.0, 1.0)
        return tf.constant(1.0)

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        warmup = tf.minimum(1.0, (step + 1.0) / self.warmup_steps) if self.warmup_steps else 1.0
        return self.base * warmup * self._shape(step) * self.plateau_scale

    def get_config(self):
        return {
            "base": self.base,
            "kind": self.kind,
            "total_steps": self.total_steps,
            "boundaries": list(self.boundaries),
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "warmup_steps": self.warmup_steps,
            "plateau_scale": float(self.plateau_scale.numpy()),
        }


def from_resolved(r):
    """The schedule of a resolved recipe (keras_classics.training.recipes.Resolved)."""
    return RecipeSchedule(
        r.base_learning_rate,
        r.schedule,
        r.epochs * r.steps_per_epoch,
        boundaries=r.boundaries_steps,
        decay_steps=r.decay_steps,
        decay_rate=r.decay_rate,
        warmup_steps=r.warmup_steps,
    )


class PlateauDecay(keras.callbacks.Callback):
    """LR / 10 when `monitor` has not improved for `patience` epochs (AlexNet, VGG).

    Unlike keras.callbacks.ReduceLROnPlateau it works with a schedule (it scales
    RecipeSchedule.plateau_scale) and keeps its state in variables, which the run's backup
    checkpoint saves, so it survives fit calls and restarts.
    """

    def __init__(self, schedule, monitor="val_top1", patience=3, factor=0.1, min_scale=1e-3):
        super().__init__()
        self.schedule, self.monitor, self.patience = schedule, monitor, patience
        self.factor, self.min_scale = factor, min_scale
        self.best = tf.Variable(-math.inf, trainable=False, name="plateau_best")
        self.wait = tf.Variable(0, trainable=False, name="plateau_wait")

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None:
            return
        if value > float(self.best.numpy()):
            self.best.assign(value)
            self.wait.assign(0)
            return
        self.wait.assign_add(1)
        scale = float(self.schedule.plateau_scale.numpy())
        if int(self.wait.numpy()) >= self.patience and scale * self.factor >= self.min_scale:
            self.schedule.plateau_scale.assign(scale * self.factor)
            self.wait.assign(0)
            print(
                f"\nEpoch {epoch + 1}: {self.monitor} stalled for {self.patience} epochs; "
                f"learning rate x {self.factor}"
            )

    def variables(self):
        return {
            "plateau_scale": self.schedule.plateau_scale,
            "plateau_best": self.best,
            "plateau_wait": self.wait,
        }
