"""The registry's models export to a SavedModel and to TFLite float32 that agree with Keras.

What is exported are representatives (tests/export_cover.py EXPORTED): together they hold
every layer, block and head kind of the registry's models, and tests/test_models.py checks
each registered model against what they export, so a model made of a kind none of them
exports fails there until it gets a representative. Four of them run unmarked (the quick
`-m "not slow"` set), the rest are marked slow.

Each is exported once, at its smallest input (max(32, min_size)), the deep ones at the least
depth that keeps their block kinds (export_cover.EXPORT_DEPTHS), with a 10-class logits head:
one signatures.Classifier serves both the SavedModel writer and the TFLite converter, so the
model is traced once. The cost that is left is TensorFlow's own per model (saving ~1,000
variables twice, the converter), and it grows with the model's depth, not with the input size.
AlexNet keeps its paper head (Flatten + fc6/fc7 at 227x227, 1000 classes, softmax, ImageNet
names; fc6 and fc7 narrowed, export_cover.HEAD_UNITS); the other fixed-head models export
their convolutional body under a "predictions" layer. Every export is also loaded and run
through both signatures, here and in a subprocess without keras (ResNet-18's is also read by
saved_model_cli).
"""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_classics
from export_cover import EXPORTED, FLOAT32_TOLERANCE, QUICK, build_for_export
from export_helpers import assert_close, keras_probabilities, preprocess_bytes, preprocess_pixels
from keras_classics import export
from keras_classics.export import graph_check, saved_model, tflite

# One worker under `pytest -n 2 --dist loadgroup` exports each representative once, for all
# the tests of this module (_EXPORTED).
pytestmark = pytest.mark.xdist_group("export")
SLOW = set(EXPORTED) - QUICK
# The two groups the graph checks take, the slow one marked.
GROUPS = [
    pytest.param(sorted(QUICK), id="quick"),
    pytest.param(sorted(SLOW), id="slow", marks=pytest.mark.slow),
]
_EXPORTED = {}  # the records of the exports, for the tests after the first


def test_quick_representatives_are_exported():
    assert QUICK <= set(EXPORTED) <= set(keras_classics.list_models())


@pytest.fixture(scope="module")
def export_root(tmp_path_factory):
    return tmp_path_factory.mktemp("saved_models")


@pytest.fixture(scope="module")
def inputs(photos, encoded):
    """(uint8 pixels [2, H, W, 3]: a photo and its mirror image; encoded JPEGs and a PNG)."""
    return np.stack([photos["chelsea"], photos["chelsea"][:, ::-1]]), [b for _, b in encoded]


def export_and_compare(name, root, inputs):
    """Exports `name` once (SavedModel and TFLite float32), checks TFLite against Keras and
    returns what the other checks need: the SavedModel's path, the TFLite op names and Keras'
    probabilities on the preprocessed test inputs."""
    spec = keras_classics.get_spec(name)
    model, size = build_for_export(name)
    classifier = export.Classifier(model, spec)
    path = saved_model.write(classifier, str(root))
    content = tflite.convert(classifier)
    pixels, data = inputs
    x = np.concatenate([preprocess_pixels(pixels, spec, size), preprocess_bytes(data, spec, size)])
    expected = keras_probabilities(classifier.model, x)  # one eager Keras call for both
    tflite.check_builtin(content)
    assert_close(tflite.Runner(content)(x), expected, FLOAT32_TOLERANCE.get(name, 1e-4))
    return {
        "name": name,
        "path": path,
        "ops": tflite.op_names(content),
        "ranks": tensor_ranks(content),
        "size": size,
        "pixels": pixels.astype(np.float32),
        "bytes": np.array(data, dtype=object),
        "expected_pixels": expected[: len(pixels)],
        "expected_bytes": expected[len(pixels) :],
        "classes": classifier.num_classes,
    }


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in EXPORTED]
)
def test_export_matches_keras(name, export_root, inputs):
    r = exported(name, export_root, inputs)
    signatures = graph_check.read_saved_model(r["path"]).meta_graphs[0].signature_def
    assert {"serving_default", "serving_bytes"} <= set(signatures)
    loaded = tf.saved_model.load(r["path"])
    out = loaded.signatures["serving_default"](images=tf.constant(r["pixels"]))
    assert_close(out["probabilities"].numpy(), r["expected_pixels"])
    out = loaded.signatures["serving_bytes"](image_bytes=tf.constant(list(r["bytes"])))
    assert_close(out["probabilities"].numpy(), r["expected_bytes"])
    assert out["probabilities"].shape == (len(r["bytes"]), r["classes"])


def tensor_ranks(content):
    """The ranks of every tensor of a .tflite model (bytes)."""
    from ai_edge_litert.interpreter import Interpreter

    return {len(t["shape"]) for t in Interpreter(model_content=content).get_tensor_details()}


def exported(name, export_root, inputs):
    """The record of representative `name`, exported once: by the first test that asks."""
    if name not in _EXPORTED:
        _EXPORTED[name] = export_and_compare(name, export_root, inputs)
    return _EXPORTED[name]


def test_alexnet_export_has_paper_head_and_imagenet_names(export_root, inputs):
    r = exported("alexnet", export_root, inputs)
    with open(os.path.join(r["path"], "assets.extra", "keras_classics.json")) as f:
        meta = json.load(f)
    assert (meta["image_size"], meta["num_classes"], meta["model_outputs"]) == (
        227,
        1000,
        "probabilities",
    )
    out = tf.saved_model.load(r["path"]).signatures["serving_bytes"](
        image_bytes=tf.constant(list(r["bytes"][:1]))
    )
    names = [n for _, n in keras_classics.records.imagenet.class_index()]
    top = out["top_k_classes"].numpy()[0]
    assert [n.decode() for n in out["top_k_names"].numpy()[0]] == [names[i] for i in top]


# The custom layers' TFLite ops: AlexNet's LRN and two-GPU grouped convolutions, GoogLeNet's
# LRN, AttentionNeXt's cardinality-32 GroupConv2D (ResNeXt units) and its masks' Interp.
CUSTOM_OPS = [
    ("alexnet", {"LOCAL_RESPONSE_NORMALIZATION", "SPLIT", "CONV_2D", "CONCATENATION"}),
    ("googlenet", {"LOCAL_RESPONSE_NORMALIZATION"}),
    pytest.param(
        "attention_next56",
        {"SPLIT", "CONV_2D", "CONCATENATION", "RESIZE_BILINEAR"},
        marks=pytest.mark.slow,
    ),
    # ChannelShuffle's constant gather (no 5-D transpose) and IGC's grouped convolutions
    pytest.param("igc_l4m32", {"GATHER", "SPLIT", "CONV_2D"}, marks=pytest.mark.slow),
    # DPN's ChannelSplit of the dual paths (unequal parts) and its cardinality-32 GroupConv2D.
    pytest.param("dpn68", {"SPLIT_V", "SPLIT", "CONV_2D", "CONCATENATION"}, marks=pytest.mark.slow),
    # ShuffleNet's shuffle (a GATHER, no 5-D tensor), v1's grouped pointwise convs, v2's
    # channel split (SPLIT_V: ChannelSplit's sizes are explicit).
    pytest.param(
        "shufflenet_v1_g3",
        {"GATHER", "SPLIT", "CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D"},
        marks=pytest.mark.slow,
    ),
    pytest.param(
        "shufflenet_v2_x0_5", {"GATHER", "SPLIT_V", "DEPTHWISE_CONV_2D"}, marks=pytest.mark.slow
    ),
]


@pytest.mark.parametrize("name,expected", CUSTOM_OPS)
def test_custom_layers_convert_to_tflite_builtins(name, expected, export_root, inputs):
    ops = set(exported(name, export_root, inputs)["ops"])
    assert expected <= ops
    assert all(n.isupper() and not n.startswith("FLEX") for n in ops), ops


# The channel shuffles (IGC's permutation, ShuffleNet's) are one 4-D gather: no tensor of rank
# 5, which the TFLite GPU delegate rejects.
@pytest.mark.slow
@pytest.mark.parametrize("name", ["igc_l4m32", "shufflenet_v1_g3", "shufflenet_v2_x0_5"])
def test_channel_shuffles_make_no_5d_tensor(name, export_root, inputs):
    ranks = exported(name, export_root, inputs)["ranks"]
    assert 4 in ranks and max(ranks) <= 4, ranks


def _walk_graph(path):
    """(op types, XLA-compile attributes, function names) of saved_model.pb, read here
    independently of keras_classics.export.graph_check."""
    from tensorflow.core.protobuf import saved_model_pb2

    proto = saved_model_pb2.SavedModel()
    with open(os.path.join(path, "saved_model.pb"), "rb") as f:
        proto.ParseFromString(f.read())
    ops, xla, functions = set(), [], set()
    for meta in proto.meta_graphs:
        nodes = list(meta.graph_def.node)
        for fn in meta.graph_def.library.function:
            functions.add(fn.signature.name)
            nodes += list(fn.node_def)
            xla += [
                fn.signature.name
                for a in ("_XlaMustCompile", "_XlaCompile")
                if a in fn.attr and fn.attr[a].b
            ]
        ops.update(n.op for n in nodes)
        xla += [
            n.name
            for n in nodes
            if any(a in n.attr and n.attr[a].b for a in ("_XlaMustCompile", "_XlaCompile"))
        ]
    return ops, xla, functions


@pytest.mark.parametrize("names", GROUPS)
def test_saved_models_hold_only_tensorflows_ops(names, export_root, inputs):
    """Every node is an op of TensorFlow's own registry (or a call of the graph's own
    functions): no Python function, no XLA cluster. Keras 3 registers no ops of its own, so
    what this finds in the process is what TF Serving finds without keras; the keras-free
    loading itself is run for the quick representatives (test below)."""
    from tensorflow.python.framework import op_def_registry

    for r in (exported(n, export_root, inputs) for n in names):
        ops, xla, functions = _walk_graph(r["path"])
        assert [op for op in ops - functions if op_def_registry.get(op) is None] == [], r["name"]
        assert not ops & {
            "PyFunc",
            "PyFuncStateless",
            "EagerPyFunc",
            "XlaLaunch",
            "_XlaCompile",
            "_XlaRun",
        }, r["name"]
        assert not xla, (r["name"], xla)
        assert not [op for op in ops if op.startswith("Xla")], r["name"]


def test_lrn_is_traced_to_tensorflows_op(export_root, inputs):
    alexnet = _walk_graph(exported("alexnet", export_root, inputs)["path"])[0]
    assert "LRN" in alexnet  # LocalResponseNormalization traced to TensorFlow's own op


# Run where keras and keras_classics cannot be imported (stand-in packages that raise
# ImportError come first on PYTHONPATH; TensorFlow's own optional import of keras then fails
# quietly): the SavedModels must hold everything TF Serving needs. The quick representatives
# (AlexNet's LRN and grouped convolutions, a VGG, GoogLeNet, ResNet-18) run it: what it needs
# of a graph, TensorFlow's own ops, is checked for every representative above, and a
# subprocess loading the others took 38 s of CI. Each runs TF Serving's own path: a v1
# Session, variables restored by the saver's restore op, both signatures run by tensor names.
# One (the first case) is also loaded with TF2's tf.saved_model.load, whose object graph must
# not need keras either.
TF_ONLY = r"""
import json, sys
import numpy as np
import tensorflow as tf


def run(sess, sig, feed):
    return sess.run(sig.outputs["probabilities"].name,
                    {sig.inputs[k].name: v for k, v in feed.items()})


report = {}
for i, case in enumerate(json.load(open(sys.argv[1]))):
    data = np.load(case["npz"], allow_pickle=True)
    feeds = {"serving_default": ({"images": data["pixels"]}, data["expected_pixels"]),
             "serving_bytes": ({"image_bytes": list(data["bytes"])}, data["expected_bytes"])}
    diffs = []
    with tf.compat.v1.Session(graph=tf.Graph()) as sess:
        meta = tf.compat.v1.saved_model.loader.load(sess, ["serve"], case["path"])
        for name, (feed, expected) in feeds.items():
            diffs.append(float(np.abs(run(sess, meta.signature_def[name], feed) - expected).max()))
    if i == 0:
        m = tf.saved_model.load(case["path"])
        for name, (feed, expected) in feeds.items():
            out = m.signatures[name](**{k: tf.constant(v) for k, v in feed.items()})
            diffs.append(float(np.abs(out["probabilities"].numpy() - expected).max()))
    report[case["name"]] = diffs
report["modules"] = sorted(m for m in sys.modules
                           if m.split(".")[0] in ("keras", "keras_classics", "tf_keras"))
print(json.dumps(report))
"""


def test_saved_models_load_with_tensorflow_alone(export_root, inputs, tmp_path):
    names = sorted(QUICK)
    cases = []
    records = [exported(n, export_root, inputs) for n in names]
    for r in sorted(records, key=lambda r: r["name"] != "resnet18"):
        npz = tmp_path / f"{r['name']}.npz"
        np.savez(
            npz,
            pixels=r["pixels"],
            bytes=r["bytes"],
            expected_pixels=r["expected_pixels"],
            expected_bytes=r["expected_bytes"],
        )
        cases.append({"name": r["name"], "path": r["path"], "npz": str(npz)})
    (tmp_path / "cases.json").write_text(json.dumps(cases))
    (tmp_path / "tf_only.py").write_text(TF_ONLY)
    for blocked in ("keras", "keras_classics", "tf_keras"):
        (tmp_path / "blocked" / blocked).mkdir(parents=True)
        (tmp_path / "blocked" / blocked / "__init__.py").write_text(
            f"raise ImportError('{blocked} is blocked: the SavedModel must not need it')\n"
        )
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "blocked"), "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run(
        [sys.executable, str(tmp_path / "tf_only.py"), str(tmp_path / "cases.json")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report.pop("modules") == []
    assert set(report) == set(names)
    assert len(report[cases[0]["name"]]) == 4  # the v1 Session and TF2's loader
    for name, diffs in report.items():
        assert max(diffs) <= 1e-4, (name, diffs)


def test_saved_model_cli_lists_both_predict_signatures(export_root, inputs):
    r = exported("resnet18", export_root, inputs)  # the smallest graph: the tool loads it
    cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    result = subprocess.run(
        [cli, "show", "--dir", r["path"], "--all"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    blocks = {}
    for block in result.stdout.split("signature_def['")[1:]:
        blocks[block.split("'")[0]] = block
    assert {"serving_default", "serving_bytes"} <= set(blocks)
    for name, input_name, dtype in (
        ("serving_default", "images", "DT_FLOAT"),
        ("serving_bytes", "image_bytes", "DT_STRING"),
    ):
        block = blocks[name]
        assert "Method name is: tensorflow/serving/predict" in block
        assert f"inputs['{input_name}'] tensor_info:\n        dtype: {dtype}" in block
        for output, out_dtype in (
            ("probabilities", "DT_FLOAT"),
            ("top_k_classes", "DT_INT32"),
            ("top_k_scores", "DT_FLOAT"),
            ("top_k_names", "DT_STRING"),
        ):
            assert f"outputs['{output}'] tensor_info:\n        dtype: {out_dtype}" in block


def test_writer_refuses_an_xla_compiled_graph(tmp_path):
    # Keras' own Conv2D(groups=2) runs through an XLA-compiled function on TensorFlow: the
    # reason GroupConv2D exists. The writer must refuse to publish such a graph.
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(4, 1, name="conv1")(inputs)
    x = keras.layers.Conv2D(4, 3, groups=2, name="conv2")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(3, name="predictions")(x))
    with pytest.raises(ValueError, match="not self-contained.*_XlaMustCompile"):
        export.export_model(model, "resnet18", output_dir=str(tmp_path), image_size=16)
    assert export.versions(str(tmp_path / "resnet18")) == []
    assert os.listdir(tmp_path / "resnet18") == []
