"""Choosing the tf.distribute strategy: MirroredStrategy on the visible GPUs, one device on a
CPU machine, MultiWorkerMirroredStrategy when TF_CONFIG names a cluster."""

import json
import os

import keras
import tensorflow as tf

from keras_classics.layers import GlobalBatchDropout, GlobalBatchNormalization

STRATEGIES = ("auto", "mirrored", "multi_worker", "one_device")


def use_cpu_devices(count):
    """Split the CPU into `count` logical devices (tests of distribution on CPU).

    Must run before TensorFlow initialises its devices.
    """
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)]
    )


def cluster_size():
    """Workers named in TF_CONFIG (1 without a cluster)."""
    cluster = json.loads(os.environ.get("TF_CONFIG", "{}")).get("cluster", {})
    return sum(len(v) for k, v in cluster.items() if k in ("chief", "worker"))


def is_chief():
    """The task that writes checkpoints, logs and results (TF_CONFIG's chief, or worker 0)."""
    config = json.loads(os.environ.get("TF_CONFIG", "{}"))
    task = config.get("task", {})
    if not task:
        return True
    if "chief" in config.get("cluster", {}):
        return task.get("type") == "chief"
    return task.get("type") == "worker" and task.get("index", 0) == 0


def make_strategy(kind="auto", num_gpus=None):
    """The strategy of `kind`; "auto" picks multi_worker, mirrored (GPUs) or one_device."""
    if kind not in STRATEGIES:
        raise ValueError(f"strategy={kind!r} is invalid; accepted: {STRATEGIES}.")
    if kind == "auto" and cluster_size() > 1:
        kind = "multi_worker"
    if kind == "multi_worker":
        # Before anything that initialises the runtime (listing logical devices does):
        # collectives can only be configured at startup.
        if cluster_size() < 1:
            raise ValueError(
                "strategy='multi_worker' needs TF_CONFIG naming the cluster; "
                "accepted: set TF_CONFIG, or strategy 'auto'/'mirrored'."
            )
        return tf.distribute.MultiWorkerMirroredStrategy()
    gpus = [d.name for d in tf.config.list_logical_devices("GPU")]
    if num_gpus is not None:
        if num_gpus < 0 or num_gpus > len(gpus):
            raise ValueError(
                f"num_gpus={num_gpus} is invalid; accepted: 0 to {len(gpus)} (the visible GPUs)."
            )
        gpus = gpus[:num_gpus]
    if kind == "auto":
        kind = "mirrored" if gpus else "one_device"
    if kind == "mirrored":
        return mirrored(gpus or [d.name for d in tf.config.list_logical_devices("CPU")])
    return tf.distribute.OneDeviceStrategy(gpus[0] if gpus else "/cpu:0")


def for_replicas(model, *, sync_batchnorm=False, global_batch_dropout=True):
    """The model as the training program trains it on any number of replicas.

    - Dropout becomes GlobalBatchDropout, which on N replicas applies the masks one device
      draws for the same global batch (keras.layers.Dropout would draw a mask per replica's
      share: other masks from the first step on).
    - With sync_batchnorm, BatchNormalization becomes GlobalBatchNormalization, which
      computes its statistics over the global batch (Keras' synchronized moments, traced in
      linear time); without, each replica normalises with its own share, the
      one intended difference from one device.

    global_batch_dropout=False keeps keras.layers.Dropout (the equivalence checks show what
    it changes). Applied for every run, one device included, so that one device and N
    replicas train the same layers with the same seeds. Returns `model` itself when nothing
    is replaced.
    """

    def dropout(layer):
        return global_batch_dropout and type(layer) is keras.layers.Dropout

    def batchnorm(layer):
        return sync_batchnorm and isinstance(layer, keras.layers.BatchNormalization)

    if not any(dropout(layer) or batchnorm(layer) for layer in model.layers):
        return model

    def clone(layer):
        config = layer.get_config()
        if dropout(layer):
            return GlobalBatchDropout.from_config(config)
        if batchnorm(layer):
            return GlobalBatchNormalization.from_config(config)
        return layer.__class__.from_config(config)

    clone_ = keras.models.clone_model(model, clone_function=clone)
    clone_.set_weights(model.get_weights())
    return clone_


def mirrored(devices):
    """MirroredStrategy over `devices`. On CPUs its reductions (gradients, synchronised
    BatchNorm moments) are sums on one device: TensorFlow's default there, collective ops,
    launched the replicas' all-reduces in different orders in float64 runs and aborted them
    ("Shape mismatch in the collective instance", measured with TF 2.21), and one device's
    sums are also in a fixed order. GPUs keep TensorFlow's choice (NCCL)."""
    if all("GPU" not in d.upper() for d in devices):
        return tf.distribute.MirroredStrategy(
            devices, cross_device_ops=tf.distribute.ReductionToOneDevice()
        )
    return tf.distribute.MirroredStrategy(devices)


def is_multi_worker(strategy):
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def name_of(strategy):
    """The public name (MultiWorkerMirroredStrategy's class is CollectiveAllReduceStrategy)."""
    return "MultiWorkerMirroredStrategy" if is_multi_worker(strategy) else type(strategy).__name__


def fit_under_multi_worker(model, strategy):
    """Lets Keras 3's model.fit run under MultiWorkerMirroredStrategy (no-op otherwise).

    keras-team/keras#20585 (open; measured with Keras 3.15.1, TF 2.21): fit fails twice under
    MultiWorkerMirroredStrategy, both times in a cross-worker reduction Keras need not make:
    1. Before the first step Keras reduces a whole input batch across workers (MEAN), only to
       learn the batch's structure for building the model ("Attempt to convert a value
       (PerReplica...) ... to a Tensor"). This worker's own batch tells the same: the model's
       `_maybe_symbolic_build` is replaced with one that builds from it.
    2. Every step's scalar logs (loss, metrics) are reduced with `axis=0` ("Invalid reduction
       dimension 0 for input with 0 dimensions"): Keras' `reduce_per_replica` is wrapped to
       take the cross-worker MEAN of scalars with `axis=None`.
    Gradients and variables are untouched: they are all-reduced by the strategy as before.
    """
    if not is_multi_worker(strategy):
        return
    from keras.src.backend.tensorflow import trainer as keras_trainer

    _wrap_reduce_per_replica(keras_trainer)

    def build_from_local_batch(self, iterator=None, data_batch=None):
        if iterator is not None:
            for _, _, batches in iterator:
                data_batch = tf.nest.map_structure(
                    lambda v: (
                        strategy.experimental_local_results(v)[0]
                        if isinstance(v, tf.distribute.DistributedValues)
                        else v
                    ),
                    next(batches),
                )
                break
        with self.distribute_strategy.scope():
            self._symbolic_build(data_batch=data_batch)

    model._maybe_symbolic_build = build_from_local_batch.__get__(model)


def _wrap_reduce_per_replica(keras_trainer):
    original = keras_trainer.reduce_per_replica
    if getattr(original, "keras_classics_wrapped", False):
        return

    def reduce_per_replica(values, strategy, reduction):
        if reduction in ("auto", "mean") and is_multi_worker(strategy):

            def scalar(v):
                return strategy.experimental_local_results(v)[0].shape.rank == 0

            return tf.nest.map_structure(
                lambda v: (
                    strategy.reduce("MEAN", v, axis=None)
                    if scalar(v)
                    else original(v, strategy, reduction)
                ),
                values,
            )
        return original(values, strategy, reduction)

    reduce_per_replica.keras_classics_wrapped = True
    keras_trainer.reduce_per_replica = reduce_per_replica
