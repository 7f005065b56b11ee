"""The training input pipeline on tf.data service workers (TensorFlow's own service).

    ds, info = get_dataset("imagenet", "train", ..., training=True, epoch=k)
    ds = service.distribute(ds, "grpc://dispatcher:5050", policy="dynamic")

    python -m keras_classics.data.service dispatcher --port 5050
    python -m keras_classics.data.service worker --dispatcher HOST:5050 --port 5051

`distribute` takes get_dataset's batched dataset whole, so that the workers read, decode,
augment and batch (the pipeline's CPU work) and the trainer receives finished batches, one
RPC per batch. The graph is serialised on the trainer and runs on the workers: it must hold
no Python (py_function, numpy_function; `python_ops` finds them and `distribute` refuses them),
its files must be readable at the same paths on every worker (data_dir), and in-memory sources
travel inside it (the bundled Fashion-MNIST training set: 48 MB registered with the dispatcher
once per epoch). docs/data_service.md has the set-up on other hosts and the measured facts.

The two sharding policies (POLICIES), and what each gives:
- "dynamic" (ShardingPolicy.DYNAMIC, distributed_epoch): the dispatcher hands the source's
  elements out to the workers on demand; each example of the epoch is processed by one worker,
  once. Which worker gets which example, and the order in which the trainer receives the
  batches, depend on timing: not deterministic, even under deterministic=True. Each worker
  batches its own share and drops its last partial batch, as the local pipeline drops its one:
  an epoch loses up to workers x (batch - 1) examples instead of up to batch - 1, and may be up
  to workers - 1 batches shorter than the local epoch.
- "off" (ShardingPolicy.OFF, parallel_epochs): every worker runs the whole pipeline. With ONE
  worker the trainer receives the local pipeline's batches, in its order, bit for bit (the
  seeds are constants of the serialised graph); that is what makes a deterministic run equal
  to the local pipeline's run. With N workers the trainer receives N copies of the epoch,
  interleaved: an epoch of the plan's length would then be roughly the first 1/N of the
  batches, each N times. Use "off" with exactly one worker.
"""

import argparse
import re
import signal
import socket
import sys
import time

import tensorflow as tf

POLICIES = {
    "dynamic": tf.data.experimental.service.ShardingPolicy.DYNAMIC,
    "off": tf.data.experimental.service.ShardingPolicy.OFF,
}
DEFAULT_POLICY = "dynamic"
# Ops that call back into the Python interpreter that built the graph: a worker has none.
PYTHON_OPS = ("PyFunc", "PyFuncStateless", "EagerPyFunc")
# grpc://host:port, host a name, an IPv4 address or a bracketed IPv6 address.
_ADDRESS = re.compile(r"grpc://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):([0-9]{1,5})")
# How long distribute waits for the dispatcher's port to accept a connection: TensorFlow's
# client, given an address where nothing listens, retries without a word (measured with
# TF 2.21: still waiting after 100 s).
CONNECT_TIMEOUT_S = 10


def check_address(service, name="service"):
    """(host, port) of "grpc://host:port"; ValueError naming `name` otherwise."""
    match = _ADDRESS.fullmatch(service) if isinstance(service, str) else None
    if not match or not 1 <= int(match.group(2)) <= 65535:
        raise ValueError(
            f"{name}={service!r} is invalid; accepted: 'grpc://HOST:PORT', the dispatcher's "
            "address (PORT 1 to 65535)."
        )
    return match.group(1).strip("[]"), int(match.group(2))


def check_policy(policy, name="policy"):
    if policy not in POLICIES:
        raise ValueError(
            f"{name}={policy!r} is invalid; accepted: 'dynamic' (each example once, order not "
            "deterministic) or 'off' (one worker: the local pipeline's batches, in order)."
        )
    return POLICIES[policy]


def python_ops(dataset):
    """The op types in `dataset`'s graph (nested functions included) that run Python."""
    graph = tf.compat.v1.GraphDef()
    # The serialisation the service sends; tf.data's own service code calls this method.
    graph.ParseFromString(dataset._as_serialized_graph().numpy())
    nodes = list(graph.node) + [n for f in graph.library.function for n in f.node_def]
    return sorted({n.op for n in nodes if n.op in PYTHON_OPS})


def _check_reachable(host, port, service):
    try:
        socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as err:
        raise ValueError(
            f"service={service!r}: no dispatcher answers there ({err}); accepted: the address "
            "of a running dispatcher (python -m keras_classics.data.service dispatcher "
            f"--port {port})."
        ) from err


def distribute(dataset, service, *, policy=DEFAULT_POLICY, job_name=None):
    """`dataset` produced by the tf.data service at `service` ("grpc://host:port").

    policy: "dynamic" or "off" (the module docstring says what each gives). job_name: None
    (the default) gives every iteration its own job, a full epoch from its start, as a local
    dataset's iterations are; iterations with the same name share one job and split its
    elements (several trainers reading one epoch).
    """
    if not isinstance(dataset, tf.data.Dataset):
        raise TypeError(f"dataset={dataset!r} is invalid; accepted: a tf.data.Dataset.")
    host, port = check_address(service)
    mode = check_policy(policy)
    if job_name is not None and (not isinstance(job_name, str) or not job_name):
        raise ValueError(f"job_name={job_name!r} is invalid; accepted: None or a non-empty str.")
    found = python_ops(dataset)
    if found:
        raise ValueError(
            f"dataset runs Python ({', '.join(found)}), which tf.data service workers cannot "
            "run; accepted: a dataset of TensorFlow ops only (no py_function/numpy_function)."
        )
    _check_reachable(host, port, service)
    return dataset.apply(tf.data.experimental.service.distribute(mode, service, job_name=job_name))


# The command line: servers for other hosts.


def _serve(server, what):
    """Blocks until SIGINT or SIGTERM, then stops `server`. Sleeping in Python, not in the
    server's join(), which does not return to the interpreter to handle the signal."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # Python raises KeyboardInterrupt on SIGINT only if the process started with SIGINT's
    # default disposition; a server started from a process that ignores it (a pytest-xdist
    # worker in the full suite, a nohup'd shell) would ignore Ctrl-C without this.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    print(f"{what}; Ctrl-C stops it.", flush=True)
    try:
        while True:
            time.sleep(3600)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.stop()
    return 0


def _dispatcher(args):
    server = tf.data.experimental.service.DispatchServer(
        tf.data.experimental.service.DispatcherConfig(port=args.port)
    )
    port = server.target.rsplit(":", 1)[1]  # the bound port, also with --port 0
    return _serve(server, f"dispatcher at grpc://{socket.gethostname()}:{port}")


def _worker(args):
    dispatcher = args.dispatcher.removeprefix("grpc://")
    if not _ADDRESS.fullmatch("grpc://" + dispatcher):
        raise ValueError(
            f"--dispatcher {args.dispatcher!r} is invalid; accepted: HOST:PORT of the dispatcher."
        )
    address = args.worker_address or f"{socket.gethostname()}:%port%"
    server = tf.data.experimental.service.WorkerServer(
        tf.data.experimental.service.WorkerConfig(
            dispatcher_address=dispatcher, worker_address=address, port=args.port
        )
    )
    port = server._address.rsplit(":", 1)[1]  # WorkerServer has no public target
    return _serve(server, f"worker at {address.replace('%port%', port)} of {dispatcher}")


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m keras_classics.data.service",
        description="tf.data service servers for train/main.py --data_service "
        "(docs/data_service.md).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    dispatcher = commands.add_parser("dispatcher", help="The dispatcher: one per cluster.")
    dispatcher.add_argument("--port", type=int, default=5050, help="0: any free port.")
    dispatcher.set_defaults(run=_dispatcher)
    worker = commands.add_parser("worker", help="A worker: runs the input pipelines.")
    worker.add_argument("--dispatcher", required=True, help="HOST:PORT of the dispatcher.")
    worker.add_argument("--port", type=int, default=5051, help="0: any free port.")
    worker.add_argument(
        "--worker_address",
        help="HOST:PORT at which trainers reach this worker (%%port%% stands for --port); "
        "default: this host's name.",
    )
    worker.set_defaults(run=_worker)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except ValueError as err:
        parser.error(str(err))  # exits with 2, as for a malformed command line


if __name__ == "__main__":
    sys.exit(main())
