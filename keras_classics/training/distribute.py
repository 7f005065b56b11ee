"""Choosing the tf.distribute strategy: MirroredStrategy on the visible GPUs, one device on a
CPU machine, MultiWorkerMirroredStrategy when TF_CONFIG names a cluster."""

import json
import os

import tensorflow as tf

STRATEGIES = ("auto", "mirrored", "multi_worker", "one_device")


def use_cpu_devices(count):
    """Split the CPU into `count` logical devices (tests of distribution on CPU).

    Must run before TensorFlow initialises its devices.
    """
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)])


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
            raise ValueError("strategy='multi_worker' needs TF_CONFIG naming the cluster; "
                             "accepted: set TF_CONFIG, or strategy 'auto'/'mirrored'.")
        return tf.distribute.MultiWorkerMirroredStrategy()
    gpus = [d.name for d in tf.config.list_logical_devices("GPU")]
    if num_gpus is not None:
        if num_gpus < 0 or num_gpus > len(gpus):
            raise ValueError(f"num_gpus={num_gpus} is invalid; accepted: 0 to {len(gpus)} "
                             "(the visible GPUs).")
        gpus = gpus[:num_gpus]
    if kind == "auto":
        kind = "mirrored" if gpus else "one_device"
    if kind == "mirrored":
        cpus = [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(gpus or cpus)
    return tf.distribute.OneDeviceStrategy(gpus[0] if gpus else "/cpu:0")
