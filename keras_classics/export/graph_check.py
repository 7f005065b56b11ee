"""Is a SavedModel self-contained for TF Serving? Reads saved_model.pb, runs nothing.

TF Serving runs a graph with TensorFlow's C++ runtime only: a PyFunc/EagerPyFunc calls back
into a Python interpreter the server does not have, and an XLA-compiled function
(jit_compile=True, which Keras' Conv2D(groups>1) uses on TensorFlow) needs XLA kernels that
TF Serving builds may lack. Loading without keras is tested separately (tests/export).
"""

import os

from tensorflow.core.protobuf import saved_model_pb2

FORBIDDEN_OPS = frozenset(
    {
        "PyFunc",
        "PyFuncStateless",
        "EagerPyFunc",
        "XlaLaunch",
        "_XlaCompile",
        "_XlaRun",
        "XlaLaunchV2",
    }
)
XLA_ATTRS = ("_XlaMustCompile", "_XlaCompile")


def read_saved_model(path):
    proto = saved_model_pb2.SavedModel()
    with open(os.path.join(path, "saved_model.pb"), "rb") as f:
        proto.ParseFromString(f.read())
    return proto


def _xla_attr(attrs):
    return [a for a in XLA_ATTRS if a in attrs and attrs[a].b]


def problems(path):
    """Sorted list of what would keep TF Serving from running the SavedModel at `path`
    (empty when it is self-contained): forbidden op types and XLA-compile attributes."""
    found = set()
    for meta in read_saved_model(path).meta_graphs:
        graph = meta.graph_def
        nodes = [("graph", n) for n in graph.node]
        for fn in graph.library.function:
            fname = fn.signature.name
            for attr in _xla_attr(fn.attr):
                found.add(f"function {fname} has {attr}=True")
            nodes += [(f"function {fname}", n) for n in fn.node_def]
        for where, node in nodes:
            if node.op in FORBIDDEN_OPS:
                found.add(f"{where}: op {node.op} ({node.name})")
            for attr in _xla_attr(node.attr):
                found.add(f"{where}: node {node.name} has {attr}=True")
    return sorted(found)


def op_types(path):
    """Every op type in the SavedModel's graphs and functions."""
    ops = set()
    for meta in read_saved_model(path).meta_graphs:
        ops.update(n.op for n in meta.graph_def.node)
        for fn in meta.graph_def.library.function:
            ops.update(n.op for n in fn.node_def)
    return ops


def check(path):
    """Raises ValueError listing the problems of the SavedModel at `path`, if any."""
    found = problems(path)
    if found:
        raise ValueError(
            f"SavedModel {path!r} is not self-contained for TF Serving: "
            + "; ".join(found[:10])
            + ("; ..." if len(found) > 10 else "")
        )
