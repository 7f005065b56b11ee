"""The run's Keras callbacks: divergence, end-of-epoch backups, one epoch per fit, the estimate."""

import math
import os
import time

import keras

import keras_classics
from keras_classics.records import fileio
from keras_classics.training import optim


class NaNGuard(keras.callbacks.TerminateOnNaN):
    """TerminateOnNaN that remembers where, so the run ends with a clear error."""

    diverged_at = None

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.diverged_at = batch
        super().on_batch_end(batch, logs)


class EpochEnd(keras.callbacks.Callback):
    """Backup, last and best weights at the end of every epoch (atomic writes).

    The weights files hold the EMA weights when the optimizer keeps them (optim.ema_weights);
    the backup holds the raw weights and the EMA, so that a resumed run goes on from both.

    `epoch` and `best` are the checkpointed variables of the run's progress; `weights_dir` is
    where last/best.weights.h5 go (None on workers other than the chief).
    """

    def __init__(self, manager, epoch, best, monitor, weights_dir):
        super().__init__()
        self.manager, self.epoch, self.best = manager, epoch, best
        self.monitor, self.weights_dir = monitor, weights_dir

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.assign(epoch + 1)
        top1 = (logs or {}).get(self.monitor)
        improved = top1 is not None and top1 > float(self.best.numpy())
        if improved:
            self.best.assign(top1)
        if self.weights_dir:
            inference = keras_classics.inference_model(self.model)
            with optim.ema_weights(self.model):
                for name in ["last.weights.h5"] + (["best.weights.h5"] if improved else []):
                    path = os.path.join(self.weights_dir, name)
                    with fileio.atomic_path(path, ".weights.h5") as tmp:
                        inference.save_weights(tmp)
        # Every worker saves (a collective under MultiWorkerMirroredStrategy); only the
        # chief's directory is the real one.
        self.manager.save(checkpoint_number=epoch + 1)


class OneEpoch(keras.callbacks.Callback):
    """Ends model.fit after the epoch it starts with.

    Each epoch's data is its own dataset (a pure function of seed and epoch, so that a resumed
    run sees what an uninterrupted one does), hence one fit call per epoch; fit is told the
    run's epochs (initial_epoch=k, epochs=N) so that the progress bar reads "Epoch k+1/N" and
    every callback's params["epochs"] is the run's.
    """

    def on_epoch_end(self, epoch, logs=None):
        self.model.stop_training = True


def duration(seconds):
    """'40 s', '11 min', '3 h 5 min'."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


class StepTimeEstimate(keras.callbacks.Callback):
    """Prints, once, how long the run's training steps will take, from `timed` measured steps.

    The first step of the process traces and compiles the training function and is left out;
    the next `timed` are measured from batch end to batch end, so the input pipeline and the
    callbacks count as they do for the whole run. Validation is not included.
    """

    def __init__(self, steps, timed=5, clock=time.perf_counter, write=print):
        super().__init__()
        self.steps, self.timed, self.clock, self.write = steps, timed, clock, write
        self.ends, self.line = [], None

    def on_epoch_begin(self, epoch, logs=None):
        # Validation between epochs is not a training step.
        self.ends = []

    def on_train_batch_end(self, batch, logs=None):
        if self.line is not None:
            return
        self.ends.append(self.clock())
        if len(self.ends) == self.timed + 1:
            per_step = (self.ends[-1] - self.ends[0]) / self.timed
            self.line = (
                f"about {per_step:.2g} s a step, {self.steps} steps: about "
                f"{duration(per_step * self.steps)}"
            )
            self.write(f"\n{self.line}", flush=True)
