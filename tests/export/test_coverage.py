"""Every registered model exports to a SavedModel and to TFLite float32 that agree with Keras.

One test over the registry; one model per family runs unmarked (CI's fast set), the rest are
marked slow. AlexNet runs with its paper head (Flatten + fc6/fc7 at 227x227, 1000 classes,
softmax, ImageNet names); the other fixed-head models use their convolutional body at 32x32
under a "predictions" layer, every other model its own head at a small input.
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
from keras_classics import export
from keras_classics.export import graph_check, tflite

from export_helpers import assert_close, keras_probabilities, preprocess_bytes, preprocess_pixels

# The unmarked set: one model per family, and between them LRN (alexnet, vgg11_lrn, googlenet),
# GroupConv2D (alexnet, resnext), auxiliary heads (googlenet) and the fixed head (alexnet).
REPRESENTATIVES = {"alexnet": "alexnet", "vgg": "vgg11_lrn", "inception": "googlenet",
                   "resnet": "resnet18", "resnext": "resnext50_32x4d"}
FULL_HEAD = {"alexnet"}
AUX_LOGITS = {"googlenet": 224}  # the aux FC layers need the paper's 14x14 grid
SLOW = set(keras_classics.list_models()) - set(REPRESENTATIVES.values())
_CACHE = {}


def build_for_export(name):
    """(model, image_size) of `name` small enough for CI, as the module doc says."""
    spec = keras_classics.get_spec(name)
    if name in FULL_HEAD:
        return spec.build(), spec.default_size
    size = AUX_LOGITS.get(name, max(32, spec.min_size))
    shape = (size, size, 3)
    if spec.fixed_head:
        body = spec.build(include_top=False, pooling="avg", input_shape=shape)
        outputs = keras.layers.Dense(10, name="predictions")(body.output)
        return keras.Model(body.inputs, outputs, name=body.name), size
    options = {"aux_logits": True} if name in AUX_LOGITS else {}
    return spec.build(classes=10, classifier_activation=None, input_shape=shape,
                      **options), size


def export_once(name, root, photos, encoded):
    """Exports `name` (SavedModel + TFLite float32) once per session and records Keras'
    probabilities on the test inputs, so later tests need no Keras model."""
    if name in _CACHE:
        return _CACHE[name]
    spec = keras_classics.get_spec(name)
    model, size = build_for_export(name)
    path = export.export_model(model, spec, output_dir=str(root))
    content = tflite.convert(export.Classifier(model, spec))
    inference = keras_classics.inference_model(model)
    pixels = np.stack([photos["chelsea"], photos["chelsea"][:, ::-1]])
    jpeg = [b for _, b in encoded]
    x_pixels = preprocess_pixels(pixels, spec, size)
    x_bytes = preprocess_bytes(jpeg, spec, size)
    record = {"name": name, "path": path, "tflite": content, "size": size,
              "pixels": pixels.astype(np.float32), "bytes": np.array(jpeg, dtype=object),
              "x_pixels": x_pixels, "expected_pixels": keras_probabilities(inference, x_pixels),
              "expected_bytes": keras_probabilities(inference, x_bytes),
              "classes": int(inference.outputs[0].shape[-1])}
    _CACHE[name] = record
    return record


@pytest.fixture(scope="session")
def export_root(tmp_path_factory):
    return tmp_path_factory.mktemp("saved_models")


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n
                                  for n in keras_classics.list_models()])
def test_export_matches_keras(name, export_root, photos, encoded):
    r = export_once(name, export_root, photos, encoded)
    tflite.check_builtin(r["tflite"])
    runner = tflite.Runner(r["tflite"])
    assert_close(runner(r["x_pixels"]), r["expected_pixels"])
    signatures = graph_check.read_saved_model(r["path"]).meta_graphs[0].signature_def
    assert {"serving_default", "serving_bytes"} <= set(signatures)
    if name in SLOW:
        # The SavedModel was written and its graph checked (no PyFunc, no XLA); loading and
        # running it costs up to 10 s per large model and tests nothing model-specific that
        # the TFLite comparison (same traced model function) and the representatives of the
        # family (preprocessing, both signatures, TF-only loading) do not.
        return
    loaded = tf.saved_model.load(r["path"])
    out = loaded.signatures["serving_default"](images=tf.constant(r["pixels"]))
    assert_close(out["probabilities"].numpy(), r["expected_pixels"])
    out = loaded.signatures["serving_bytes"](image_bytes=tf.constant(list(r["bytes"])))
    assert_close(out["probabilities"].numpy(), r["expected_bytes"])
    assert out["probabilities"].shape == (len(r["bytes"]), r["classes"])


def representatives(export_root, photos, encoded):
    return [export_once(n, export_root, photos, encoded) for n in REPRESENTATIVES.values()]


def test_alexnet_export_has_paper_head_and_imagenet_names(export_root, photos, encoded):
    r = export_once("alexnet", export_root, photos, encoded)
    meta = json.load(open(os.path.join(r["path"], "assets.extra", "keras_classics.json")))
    assert (meta["image_size"], meta["num_classes"], meta["model_outputs"]) == \
        (227, 1000, "probabilities")
    out = tf.saved_model.load(r["path"]).signatures["serving_bytes"](
        image_bytes=tf.constant(list(r["bytes"][:1])))
    names = [n for _, n in keras_classics.imagenet.class_index()]
    top = out["top_k_classes"].numpy()[0]
    assert [n.decode() for n in out["top_k_names"].numpy()[0]] == [names[i] for i in top]


def test_custom_layers_convert_to_tflite_builtins(export_root, photos, encoded):
    ops = {n: set(tflite.op_names(export_once(n, export_root, photos, encoded)["tflite"]))
           for n in ("alexnet", "resnext50_32x4d", "googlenet")}
    # AlexNet: LRN and the two-GPU grouped convolutions; ResNeXt: cardinality-32 GroupConv2D.
    assert "LOCAL_RESPONSE_NORMALIZATION" in ops["alexnet"]
    assert "LOCAL_RESPONSE_NORMALIZATION" in ops["googlenet"]
    for name in ("alexnet", "resnext50_32x4d"):
        assert {"SPLIT", "CONV_2D", "CONCATENATION"} <= ops[name]
    for names in ops.values():
        assert all(n.isupper() and not n.startswith("FLEX") for n in names), names


def _walk_graph(path):
    """(op types, XLA-compile attributes) of saved_model.pb, read here independently of
    keras_classics.export.graph_check."""
    from tensorflow.core.protobuf import saved_model_pb2
    proto = saved_model_pb2.SavedModel()
    proto.ParseFromString(open(os.path.join(path, "saved_model.pb"), "rb").read())
    ops, xla = set(), []
    for meta in proto.meta_graphs:
        nodes = list(meta.graph_def.node)
        for fn in meta.graph_def.library.function:
            nodes += list(fn.node_def)
            xla += [fn.signature.name for a in ("_XlaMustCompile", "_XlaCompile")
                    if a in fn.attr and fn.attr[a].b]
        ops.update(n.op for n in nodes)
        xla += [n.name for n in nodes if any(a in n.attr and n.attr[a].b
                                             for a in ("_XlaMustCompile", "_XlaCompile"))]
    return ops, xla


def test_saved_models_hold_no_pyfunc_and_no_xla(export_root, photos, encoded):
    for r in representatives(export_root, photos, encoded):
        ops, xla = _walk_graph(r["path"])
        assert not ops & {"PyFunc", "PyFuncStateless", "EagerPyFunc", "XlaLaunch",
                          "_XlaCompile", "_XlaRun"}, r["name"]
        assert not xla, (r["name"], xla)
        assert not [op for op in ops if op.startswith("Xla")], r["name"]
    alexnet = _walk_graph(export_once("alexnet", export_root, photos, encoded)["path"])[0]
    assert "LRN" in alexnet  # LocalResponseNormalization traced to TensorFlow's own op


# Run where keras and keras_classics cannot be imported (stand-in packages that raise
# ImportError come first on PYTHONPATH; TensorFlow's own optional import of keras then fails
# quietly): the SavedModels must hold everything TF Serving needs.
TF_ONLY = r"""
import json, sys
import numpy as np
import tensorflow as tf
report = {}
for case in json.load(open(sys.argv[1])):
    data = np.load(case["npz"], allow_pickle=True)
    m = tf.saved_model.load(case["path"])
    a = m.signatures["serving_default"](images=tf.constant(data["pixels"]))["probabilities"]
    b = m.signatures["serving_bytes"](image_bytes=tf.constant(list(data["bytes"])))
    # TF Serving's own path: a v1 Session, variables restored by the saver's restore op,
    # the signature run by tensor names.
    with tf.compat.v1.Session(graph=tf.Graph()) as sess:
        meta = tf.compat.v1.saved_model.loader.load(sess, ["serve"], case["path"])
        sig = meta.signature_def["serving_bytes"]
        c = sess.run(sig.outputs["probabilities"].name,
                     {sig.inputs["image_bytes"].name: list(data["bytes"])})
    report[case["name"]] = [float(np.abs(a.numpy() - data["expected_pixels"]).max()),
                            float(np.abs(b["probabilities"].numpy()
                                         - data["expected_bytes"]).max()),
                            float(np.abs(c - data["expected_bytes"]).max())]
report["modules"] = sorted(m for m in sys.modules
                           if m.split(".")[0] in ("keras", "keras_classics", "tf_keras"))
print(json.dumps(report))
"""


def test_saved_models_load_with_tensorflow_alone(export_root, photos, encoded, tmp_path):
    cases = []
    for r in representatives(export_root, photos, encoded):
        npz = tmp_path / f"{r['name']}.npz"
        np.savez(npz, pixels=r["pixels"], bytes=r["bytes"],
                 expected_pixels=r["expected_pixels"], expected_bytes=r["expected_bytes"])
        cases.append({"name": r["name"], "path": r["path"], "npz": str(npz)})
    (tmp_path / "cases.json").write_text(json.dumps(cases))
    (tmp_path / "tf_only.py").write_text(TF_ONLY)
    for blocked in ("keras", "keras_classics", "tf_keras"):
        (tmp_path / "blocked" / blocked).mkdir(parents=True)
        (tmp_path / "blocked" / blocked / "__init__.py").write_text(
            f"raise ImportError('{blocked} is blocked: the SavedModel must not need it')\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "blocked"), "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run([sys.executable, str(tmp_path / "tf_only.py"),
                             str(tmp_path / "cases.json")], capture_output=True, text=True,
                            cwd=tmp_path, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report.pop("modules") == []
    assert set(report) == set(REPRESENTATIVES.values())
    for name, diffs in report.items():
        assert max(diffs) <= 1e-4, (name, diffs)


def test_saved_model_cli_lists_both_predict_signatures(export_root, photos, encoded):
    r = export_once("resnext50_32x4d", export_root, photos, encoded)
    cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    result = subprocess.run([cli, "show", "--dir", r["path"], "--all"], capture_output=True,
                            text=True, timeout=300,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert result.returncode == 0, result.stderr[-2000:]
    blocks = {}
    for block in result.stdout.split("signature_def['")[1:]:
        blocks[block.split("'")[0]] = block
    assert {"serving_default", "serving_bytes"} <= set(blocks)
    for name, input_name, dtype in (("serving_default", "images", "DT_FLOAT"),
                                    ("serving_bytes", "image_bytes", "DT_STRING")):
        block = blocks[name]
        assert "Method name is: tensorflow/serving/predict" in block
        assert f"inputs['{input_name}'] tensor_info:\n        dtype: {dtype}" in block
        for output, out_dtype in (("probabilities", "DT_FLOAT"), ("top_k_classes", "DT_INT32"),
                                  ("top_k_scores", "DT_FLOAT"),
                                  ("top_k_names", "DT_STRING")):
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
