"""The training input pipeline on tf.data service workers (keras_classics/data/service.py),
against a dispatcher and workers that these tests start on 127.0.0.1."""

import collections
import gc
import gzip
import hashlib
import importlib
import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf
from absl import flags

from keras_classics.data import get_dataset, service
from keras_classics.data.sources import fashion_mnist
from keras_classics.training import cli
from keras_classics.training.config import RunConfig, check_config
from keras_classics.training.run import Run

# tests/training's helpers (train/main.py in a fresh process, weight files); pytest puts that
# folder on sys.path only once it has collected a test there.
sys.path.append(os.path.join(os.path.dirname(os.path.dirname(__file__)), "training"))
train_helpers = importlib.import_module("train_helpers")

pytestmark = pytest.mark.xdist_group("data_service")

# A Fashion-MNIST small enough for a test epoch: the first images of each real split.
TRAIN_EXAMPLES, TEST_EXAMPLES = 200, 40
# The training pipeline's settings here: resnet18 at Fashion-MNIST's 32 px.
PIPELINE = dict(model="resnet18", training=True, seed=3, epoch=1)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_idx(path, array):
    """The IDX format fashion_mnist.read_idx reads: magic (0, 0, 8 = uint8, ndim), sizes."""
    header = bytes([0, 0, 8, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


@pytest.fixture(scope="module")
def small_fashion_mnist(tmp_path_factory):
    """A data_dir of the first TRAIN_EXAMPLES / TEST_EXAMPLES examples of each split."""
    root = tmp_path_factory.mktemp("fashion_mnist")
    for split, n in (("train", TRAIN_EXAMPLES), ("test", TEST_EXAMPLES)):
        images, labels = fashion_mnist.load_arrays(split)
        for name, array in zip(fashion_mnist._FILES[split], (images[:n], labels[:n])):
            _write_idx(str(root / name), array)
    return str(root)


class Cluster:
    """A DispatchServer and `workers` WorkerServers in this process, on 127.0.0.1."""

    def __init__(self, workers):
        port = _free_port()
        svc = tf.data.experimental.service
        self.address = f"grpc://127.0.0.1:{port}"
        # Jobs without a client dropped after 0.5 s, not TensorFlow's minutes, with heartbeats
        # every 0.5 s, not 30 s: a training run's job outlived its process, its worker went on
        # producing for it beside the next tests, and stopping that worker waited on it (most of
        # the module's time before; CONTRIBUTING.md, CI time).
        self.dispatcher = svc.DispatchServer(
            svc.DispatcherConfig(port=port, job_gc_check_interval_ms=500, job_gc_timeout_ms=500)
        )
        self.workers = [
            svc.WorkerServer(
                svc.WorkerConfig(
                    dispatcher_address=f"127.0.0.1:{port}",
                    worker_address="127.0.0.1:%port%",
                    heartbeat_interval_ms=500,
                )
            )
            for _ in range(workers)
        ]
        deadline = time.time() + 60
        while self.dispatcher._num_workers() < workers:
            assert time.time() < deadline, "the workers did not register"
            time.sleep(0.1)

    def stop(self):
        # First free the tests' service datasets still held in reference cycles: freed after
        # the dispatcher stops, each one's client retries telling it that it is done (measured:
        # 15 to 55 s of teardown).
        gc.collect()
        for worker in self.workers:
            worker.stop()
        self.dispatcher.stop()


@pytest.fixture(scope="module")
def two_workers():
    cluster = Cluster(2)
    yield cluster
    cluster.stop()


@pytest.fixture(scope="module")
def one_worker():
    cluster = Cluster(1)
    yield cluster
    cluster.stop()


def _examples(ds):
    """[(label, sha1 of the image)] of every example of every batch, in order."""
    return [
        (int(y), hashlib.sha1(x.tobytes()).hexdigest())
        for images, labels in ds.as_numpy_iterator()
        for x, y in zip(images, labels)
    ]


def _ops(ds):
    graph = tf.compat.v1.GraphDef()
    graph.ParseFromString(ds._as_serialized_graph().numpy())
    return {n.op for n in graph.node}


def assert_each_once(delivered, expected, missing_allowed=0):
    """`delivered` holds each example of `expected` (a list; equal images are several
    examples) at most once, and misses at most `missing_allowed` of them."""
    duplicated = collections.Counter(delivered) - collections.Counter(expected)
    missing = collections.Counter(expected) - collections.Counter(delivered)
    assert not duplicated, (
        f"{sum(duplicated.values())} delivered more often than they exist: {list(duplicated)[:3]}"
    )
    assert sum(missing.values()) <= missing_allowed, (
        f"{sum(missing.values())} missing (at most {missing_allowed} may): {list(missing)[:3]}"
    )


def test_the_once_check_finds_a_duplicated_and_a_missing_example():
    expected = [(0, "a"), (1, "b"), (1, "b"), (2, "c")]
    assert_each_once(list(reversed(expected)), expected)
    with pytest.raises(AssertionError, match="more often"):
        assert_each_once([*expected, (2, "c")], expected)
    with pytest.raises(AssertionError, match="missing"):
        assert_each_once(expected[:3], expected)
    with pytest.raises(AssertionError, match="more often"):  # a swap of one for another
        assert_each_once([(0, "a"), (1, "b"), (2, "c"), (2, "c")], expected)


def test_dynamic_two_workers_deliver_each_example_of_the_epoch_once(
    two_workers, small_fashion_mnist
):
    def epoch(batch, **kw):
        return get_dataset(
            "fashion_mnist",
            "train",
            global_batch_size=batch,
            data_dir=small_fashion_mnist,
            augmentation="none",  # an example's image is then its own, in every epoch
            **PIPELINE,
            **kw,
        )[0]

    # Batches of one: no partial batch to drop, so the epoch is every example, exactly once.
    everything = _examples(epoch(1))
    assert len(everything) == TRAIN_EXAMPLES
    remote = _examples(service.distribute(epoch(1), two_workers.address, policy="dynamic"))
    assert_each_once(remote, everything)
    assert len(remote) == TRAIN_EXAMPLES
    # Batches of 8: each worker drops its own last partial batch, up to 2 x 7 examples.
    remote = _examples(service.distribute(epoch(8), two_workers.address, policy="dynamic"))
    assert_each_once(remote, everything, missing_allowed=2 * 7)
    assert len(remote) % 8 == 0 and len(remote) >= TRAIN_EXAMPLES - 2 * 7


def test_dynamic_hands_out_tfrecord_files_each_example_once(two_workers, photo_shards):
    """ImageNet's layout: the dispatcher's splits are the shard files."""
    kw = dict(global_batch_size=1, data_dir=str(photo_shards), augmentation="none", **PIPELINE)
    everything = _examples(get_dataset("imagenet", "train", **kw)[0])
    assert len(everything) == 6
    remote = service.distribute(get_dataset("imagenet", "train", **kw)[0], two_workers.address)
    delivered = _examples(remote)
    assert_each_once(delivered, everything)
    assert len(delivered) == len(everything)


def test_off_one_worker_gives_the_local_batches_in_order(one_worker, small_fashion_mnist):
    kw = dict(global_batch_size=8, data_dir=small_fashion_mnist, deterministic=True, **PIPELINE)
    # pad_crop: random crops and flips, drawn from the (seed, epoch) seeds in the graph.
    local, _ = get_dataset("fashion_mnist", "train", augmentation="pad_crop", **kw)
    remote = service.distribute(
        get_dataset("fashion_mnist", "train", augmentation="pad_crop", **kw)[0],
        one_worker.address,
        policy="off",
    )
    expected = list(local.as_numpy_iterator())
    assert len(expected) == TRAIN_EXAMPLES // 8
    # No job name: a second iteration is a job of its own, the whole epoch again.
    for _ in range(2):
        got = list(remote.as_numpy_iterator())
        assert len(got) == len(expected)
        for (xa, ya), (xb, yb) in zip(expected, got):
            assert xa.dtype == xb.dtype and np.array_equal(xa, xb) and np.array_equal(ya, yb)


def test_skipped_records_are_dropped_on_the_worker_but_not_counted(one_worker, tmp_path):
    """Why check_config refuses skip_errors with data_service."""
    for cls in ("n01440764", "n01443537"):
        os.makedirs(tmp_path / "train" / cls)
        for i in range(2):
            image = np.full((40, 40, 3), 60 * i + 30, np.uint8)
            (tmp_path / "train" / cls / f"{i}.JPEG").write_bytes(tf.io.encode_jpeg(image).numpy())
    (tmp_path / "train" / "n01440764" / "bad.JPEG").write_bytes(b"not an image")

    def epoch():
        return get_dataset(
            "folder",
            "train",
            global_batch_size=1,
            data_dir=str(tmp_path),
            skip_errors=True,
            augmentation="none",
            **PIPELINE,
        )

    local, info = epoch()
    assert len(list(local)) == 4 and info.skipped() == {"not_an_image": 1}
    remote, info = epoch()
    assert len(list(service.distribute(remote, one_worker.address, policy="off"))) == 4
    assert info.skipped() == {}


def test_argument_errors_name_the_value(one_worker):
    ds = tf.data.Dataset.range(4)
    for bad in ("127.0.0.1:5050", "grpc://127.0.0.1", "grpc://h:0", "grpc://h:70000", 5050):
        with pytest.raises(ValueError, match=rf"service={bad!r} is invalid; accepted: 'grpc://"):
            service.distribute(ds, bad)
    with pytest.raises(ValueError, match=r"policy='distributed_epoch' is invalid; accepted: 'dyn"):
        service.distribute(ds, one_worker.address, policy="distributed_epoch")
    with pytest.raises(ValueError, match=r"job_name='' is invalid"):
        service.distribute(ds, one_worker.address, job_name="")
    with pytest.raises(TypeError, match=r"dataset=\[1, 2\] is invalid"):
        service.distribute([1, 2], one_worker.address)
    with pytest.raises(ValueError, match=r"no dispatcher answers there"):
        service.distribute(ds, f"grpc://127.0.0.1:{_free_port()}")
    python = ds.map(lambda x: tf.py_function(lambda v: v + 1, [x], tf.int64))
    assert service.python_ops(python)
    with pytest.raises(ValueError, match=r"dataset runs Python \(.*EagerPyFunc"):
        service.distribute(python, one_worker.address)


def test_the_pipeline_graphs_hold_no_python(small_fashion_mnist):
    for training in (True, False):
        ds, _ = get_dataset(
            "fashion_mnist",
            "train" if training else "validation",
            model="resnet18",
            global_batch_size=8,
            training=training,
            data_dir=small_fashion_mnist,
            epoch=0 if training else None,
        )
        assert service.python_ops(ds) == []


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"data_service": "localhost:5050"}, r"data_service='localhost:5050' is invalid"),
        (
            {"data_service_policy": "off"},
            r"data_service_policy='off' without data_service",
        ),
        (
            {"data_service": "grpc://h:1", "data_service_policy": "parallel"},
            r"data_service_policy='parallel' is invalid",
        ),
        (
            {"data_service": "grpc://h:1", "skip_errors": True},
            r"skip_errors=True with data_service='grpc://h:1' conflict",
        ),
        (
            {"data_service": "grpc://h:1", "deterministic": True},
            r"deterministic=True with data_service_policy='dynamic' conflict",
        ),
        (
            {"data_service": "grpc://h:1", "strategy": "multi_worker"},
            r"MultiWorkerMirroredStrategy is not supported",
        ),
        (
            {"data_service": "grpc://h:1", "eval_only": True, "checkpoint": __file__},
            r"eval_only=True with data_service='grpc://h:1' conflict",
        ),
    ],
)
def test_config_refusals(settings, message):
    with pytest.raises(ValueError, match=message):
        check_config(RunConfig.from_flags(model="resnet18", **settings))


def test_a_cluster_of_trainers_is_refused(monkeypatch):
    cluster = {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": {"index": 0}}))
    with pytest.raises(ValueError, match=r"MultiWorkerMirroredStrategy is not supported"):
        check_config(RunConfig.from_flags(model="resnet18", data_service="grpc://h:1"))
    check_config(RunConfig(model="resnet18"))  # strategy "auto": multi_worker, without it


def test_flags_and_the_run_identity(one_worker, small_fashion_mnist):
    values = flags.FlagValues()
    cli.define_flags(values)
    values(["main", "--model", "resnet18", "--data_service", "grpc://h:1"] + ["--deterministic"])
    values["data_service_policy"].parse("off")
    cfg = cli.config_from(values)
    assert (cfg.data.data_service, cfg.data.data_service_policy) == ("grpc://h:1", "off")
    check_config(cfg)
    # The same data, so the same run: a model_dir trained without the service resumes with it.
    common = dict(model="resnet18", batch_size=8, data_dir=small_fashion_mnist)
    local = Run(RunConfig.from_flags(**common)).plan(1)[0]
    run = Run(RunConfig.from_flags(**common, data_service=one_worker.address))
    remote, train_ds, _ = run.plan(1)
    assert local.identity() == remote.identity()
    # The training data come from the service; the evaluation data are made here.
    assert any(op.startswith("DataServiceDataset") for op in _ops(train_ds))
    assert not any(op.startswith("DataService") for op in _ops(run.dataset(8, 32)[0]))


@pytest.mark.slow
@pytest.mark.parametrize(
    "strategy", [["--cpu_devices", "2", "--strategy", "mirrored"]], ids=["mirrored"]
)
def test_train_main_through_the_service_ends_with_the_local_weights(
    one_worker, small_fashion_mnist, tmp_path, strategy
):
    """MirroredStrategy splits each received global batch between its replicas, as it
    splits a local one. (On one device, the same through the service measured equal too; the
    mirrored run includes what it checks: 56 s of CI saved.)"""
    args = [*train_helpers.SMOKE, "--data_dir", small_fashion_mnist, "--deterministic"]
    args += ["--max_steps", "3", *strategy]
    local = train_helpers.run_main([*args, "--model_dir", str(tmp_path / "local")])
    assert local.returncode == 0, local.stderr[-3000:]
    remote = train_helpers.run_main(
        [
            *args,
            *("--data_service", one_worker.address, "--data_service_policy", "off"),
            *("--model_dir", str(tmp_path / "remote")),
        ]
    )
    assert remote.returncode == 0, remote.stderr[-3000:]
    replicas = "2 replica(s) of MirroredStrategy" if strategy else "1 replica(s)"
    assert replicas in remote.stdout
    train_helpers.assert_same_weights(
        tmp_path / "local" / "last.weights.h5", tmp_path / "remote" / "last.weights.h5", rtol=0
    )


def _serving(server):
    """Whether `server` (a Popen) printed its ready line before it ended."""
    return any("Ctrl-C stops it" in line for line in server.stdout)


@pytest.mark.slow
def test_train_main_dynamic_runs_its_epochs(two_workers, small_fashion_mnist, tmp_path):
    """Each worker drops its own last partial batch: an epoch of the plan's 25 steps may
    receive 24 batches (200 = 8 x 25 split between two workers), which Keras ends early."""
    result = train_helpers.run_main(
        [
            *train_helpers.SMOKE,
            *("--data_dir", small_fashion_mnist, "--epochs", "2"),
            *("--data_service", two_workers.address, "--model_dir", str(tmp_path / "run")),
        ]
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "2 epoch(s) x 25 steps" in result.stdout
    print(f"epochs ended early: {result.stderr.count('Your input ran out of data')} of 2")
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert results["epochs"] == 2
    with open(tmp_path / "run" / "history.csv", encoding="utf-8") as f:
        assert len(f.read().splitlines()) == 3  # a header and one row per epoch


@pytest.mark.slow
def test_command_line_servers_serve_and_stop_on_sigint(tmp_path):
    port = _free_port()
    commands = {
        "dispatcher": ["--port", str(port)],
        "worker": ["--dispatcher", f"127.0.0.1:{port}", "--port", "0"]
        + ["--worker_address", "127.0.0.1:%port%"],
    }
    servers = {}
    for name, args in commands.items():
        with open(tmp_path / f"{name}.err", "w") as err:
            servers[name] = subprocess.Popen(
                [sys.executable, "-m", "keras_classics.data.service", name, *args],
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
                env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
            )
    try:
        for name, server in servers.items():
            assert _serving(server), (tmp_path / f"{name}.err").read_text()[-3000:]
        ds = service.distribute(tf.data.Dataset.range(10), f"grpc://127.0.0.1:{port}")
        assert sorted(ds.as_numpy_iterator()) == list(range(10))
        del ds  # freed while its dispatcher lives (Cluster.stop says why)
        gc.collect()
    finally:
        for server in servers.values():
            server.send_signal(signal.SIGINT)
        # 120 s: under a fully loaded machine (a CI run next to a training job) the dispatcher
        # took more than 60 s to stop.
        codes = [server.wait(timeout=120) for server in servers.values()]
    assert codes == [0, 0]
