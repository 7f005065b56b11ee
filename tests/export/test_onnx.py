"""ONNX export: every export representative (tests/export_cover.py EXPORTED) converted by
tf2onnx and run by onnxruntime agrees with Keras within 1e-4, bare and with the evaluation
preprocessing inside; the file's opset; the custom layers' ONNX ops (LRN in both alpha
conventions, grouped convolution); the writer and the command line's refusals.

Each representative is built and converted once for all the tests of this module (_CONVERTED),
as test_coverage.py builds them (export_cover.build_for_export): the bare model's ONNX graph is
converted once, and the file with preprocessing joins the (cheap) preprocessing graph in front
of that same graph, as keras_classics.export.onnx.convert does.
"""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

import keras_classics
from export_cover import EXPORTED, FLOAT32_TOLERANCE, QUICK, build_for_export
from export_helpers import assert_close, keras_probabilities, preprocess_pixels, tiny_classifier
from keras_classics import export
from keras_classics.export import onnx as onnx_export
from keras_classics.export.__main__ import main as export_main
from keras_classics.layers import LocalResponseNormalization
from keras_classics.records.input_config import InputConfig

pytest.importorskip("onnxruntime", reason="the onnx extra: pip install -e '.[onnx]'")
pytest.importorskip("tf2onnx", reason="the onnx extra: pip install -e '.[onnx]'")

import onnx

# One worker under `pytest -n 2 --dist loadgroup` converts each representative once.
pytestmark = pytest.mark.xdist_group("onnx")
SLOW = set(EXPORTED) - QUICK
REPRESENTATIVES = [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in EXPORTED]
_CONVERTED = {}


@pytest.fixture(scope="module")
def pixels(photos):
    """Raw pixels of one shape (ONNX's `images` is one batch): a photo and its mirror image,
    and two other photos for the bare model (preprocessed one by one)."""
    same = np.stack([photos["chelsea"], photos["chelsea"][:, ::-1]])
    return same, [photos["astronaut"], photos["coffee"]]


def converted(name, pixels):
    """The record of representative `name`: built and converted once, by the first test."""
    if name not in _CONVERTED:
        spec = keras_classics.get_spec(name)
        model, size = build_for_export(name)
        classifier = export.Classifier(model, spec)
        proto = onnx_export.convert_model(classifier)
        same, others = pixels
        x = np.concatenate(
            [preprocess_pixels(same, spec, size), preprocess_pixels(others, spec, size)]
        )
        _CONVERTED[name] = {
            "bare": onnx_export.convert(classifier, model_proto=proto),
            "preprocessing": onnx_export.convert(classifier, True, model_proto=proto),
            "x": x,
            "expected": keras_probabilities(classifier.model, x),  # one eager Keras call
            "raw": same.astype(np.float32),
            "size": size,
            "classes": classifier.num_classes,
        }
        keras.backend.clear_session()
    return _CONVERTED[name]


@pytest.mark.parametrize("name", REPRESENTATIVES)
def test_onnx_matches_keras(name, pixels):
    r = converted(name, pixels)
    runner = onnx_export.Runner(r["bare"])
    assert (runner.input.name, runner.input.shape[1:]) == ("input", [r["size"], r["size"], 3])
    out = runner(r["x"])
    assert out.shape == (len(r["x"]), r["classes"])
    dp, dl = assert_close(out, r["expected"], FLOAT32_TOLERANCE.get(name, 1e-4))
    print(f"\nONNX vs Keras {name}: probabilities {dp:.2g}, log-probabilities {dl:.2g}")


@pytest.mark.parametrize("name", REPRESENTATIVES)
def test_onnx_with_preprocessing_matches_keras_on_the_eval_pipeline(name, pixels):
    """Raw pixels into the file with preprocessing inside give what Keras gives on the
    evaluation pipeline's input (keras_classics.data.eval_preprocess, one image at a time)."""
    r = converted(name, pixels)
    runner = onnx_export.Runner(r["preprocessing"])
    assert runner.input.name == "images" and runner.input.shape[3] == 3
    assert all(isinstance(d, str) for d in runner.input.shape[:3])  # batch, height, width free
    tol = FLOAT32_TOLERANCE.get(name, 1e-4)
    dp, dl = assert_close(runner(r["raw"]), r["expected"][: len(r["raw"])], tol)
    print(f"\nONNX with preprocessing vs Keras {name}: probabilities {dp:.2g}, log {dl:.2g}")


# What the custom layers become: AlexNet's LRN (paper alpha) and two-GPU grouped convolutions,
# GoogLeNet's LRN (Caffe alpha), AttentionNeXt's cardinality-32 GroupConv2D (ResNeXt units)
# and its masks' align-corners Interp (Resize).
CUSTOM_OPS = [
    pytest.param("alexnet", {"LRN", "Split", "Conv", "Concat"}, marks=pytest.mark.slow),
    ("googlenet", {"LRN"}),
    pytest.param("attention_next56", {"Split", "Conv", "Concat", "Resize"}, marks=pytest.mark.slow),
]


@pytest.mark.parametrize("name,expected", CUSTOM_OPS)
def test_files_hold_standard_ops_at_the_opset(name, expected, pixels):
    r = converted(name, pixels)
    for content in (r["bare"], r["preprocessing"]):
        model = onnx.load_from_string(content)
        # Read here from the proto, independently of onnx_export.opset_of.
        imports = {o.domain: o.version for o in model.opset_import}
        assert imports[""] == 18 == onnx_export.OPSET
        ops = {(n.domain, n.op_type) for n in model.graph.node}
        assert {d for d, _ in ops} == {""}, ops  # no custom or contrib domain
        assert expected <= {t for _, t in ops}
        onnx.checker.check_model(model, full_check=True)
    assert {"Resize"} <= {n.op_type for n in onnx.load_from_string(r["preprocessing"]).graph.node}


@pytest.mark.parametrize("convention", ["paper", "caffe"])
def test_lrn_alpha_convention_carries_over(convention):
    """ONNX's LRN divides alpha by the window size (Caffe's convention), TensorFlow's does
    not: at inputs large enough that the alpha term dominates, a convention mixed up would be
    5x off, far outside the tolerance."""
    inputs = keras.Input((6, 6, 16))
    layer = LocalResponseNormalization(alpha_convention=convention, name="norm")
    model = keras.Model(inputs, layer(inputs))
    x = np.random.default_rng(0).normal(0, 100, (2, 6, 6, 16)).astype(np.float32)
    proto = onnx_export._convert(lambda t: {"output": model(t)}, [_spec(x.shape[1:])])
    import onnxruntime

    session = onnxruntime.InferenceSession(proto.SerializeToString())
    out = session.run(None, {"input": x})[0]
    expected = np.asarray(model(x))
    scale = np.abs(expected).max()
    assert np.abs(out - expected).max() / scale <= 1e-5
    other = "caffe" if convention == "paper" else "paper"
    swapped = np.asarray(LocalResponseNormalization(alpha_convention=other)(x))
    assert np.abs(swapped - expected).max() / scale > 1e-2  # the check can tell them apart


def test_grouped_convolution_converts_to_split_conv_concat():
    """GroupConv2D at AlexNet's two groups and a ResNeXt-like eight, strided and padded."""
    from keras_classics.layers import GroupConv2D

    inputs = keras.Input((9, 9, 16))
    x = GroupConv2D(16, 5, groups=2, padding="same", name="conv2")(inputs)
    x = GroupConv2D(32, 3, strides=2, groups=8, padding="same", name="conv3")(x)
    model = keras.Model(inputs, x)
    x = np.random.default_rng(1).normal(size=(2, 9, 9, 16)).astype(np.float32)
    proto = onnx_export._convert(lambda t: {"output": model(t)}, [_spec(x.shape[1:])])
    assert {"Split", "Conv", "Concat"} <= {n.op_type for n in proto.graph.node}
    import onnxruntime

    out = onnxruntime.InferenceSession(proto.SerializeToString()).run(None, {"input": x})[0]
    expected = np.asarray(model(x))
    assert out.shape == expected.shape == (2, 5, 5, 32)
    assert np.abs(out - expected).max() / np.abs(expected).max() <= 1e-5


def _spec(shape):
    import tensorflow as tf

    return tf.TensorSpec([None, *shape], tf.float32, "input")


def test_bicubic_preprocessing_is_refused(photos, tmp_path):
    """timm's weights record bicubic resizes, which onnxruntime's cubic Resize cannot do
    (it does not downsample 4-D inputs): refused with preprocessing inside, and the bare
    model, preprocessed outside, matches Keras."""
    config = InputConfig("torch", 64, 0.875, "bicubic")
    model = tiny_classifier(size=64)
    spec = keras_classics.get_spec("resnet18")
    with pytest.raises(ValueError, match="preprocessing=True is invalid with interpolation="):
        export.export_model(
            model, spec, format="onnx", preprocessing=True, input_config=config, output_dir="x"
        )
    path = export.export_model(
        model, spec, format="onnx", input_config=config, output_dir=str(tmp_path)
    )
    assert onnx_export.read_metadata(path)["interpolation"] == "bicubic"
    x = preprocess_pixels([photos["rocket"]], config, 64)
    assert_close(onnx_export.Runner(path)(x), keras_probabilities(model, x))


def test_writer_never_overwrites_and_records_metadata(tmp_path, photos):
    model = tiny_classifier(classes=3)
    path = export.export_model(
        model, "resnet18", format="onnx", output_dir=str(tmp_path), class_names=["a", "b", "c"]
    )
    assert path == str(tmp_path / "resnet18" / "onnx" / "resnet18.onnx")
    meta = onnx_export.read_metadata(path)
    assert (meta["input"], meta["opset"], meta["preprocessing_inside"]) == ("input", 18, False)
    assert (meta["class_names"], meta["image_size"], meta["preprocessing"]) == (
        ["a", "b", "c"],
        32,
        "torch",
    )
    stamp = os.stat(path).st_mtime_ns
    with pytest.raises(ValueError, match="resnet18.onnx' already exists; accepted: an output"):
        export.export_model(model, "resnet18", format="onnx", output_dir=str(tmp_path))
    assert os.stat(path).st_mtime_ns == stamp
    with_pre = export.export_model(
        model, "resnet18", format="onnx", preprocessing=True, output_dir=str(tmp_path)
    )
    assert os.path.basename(with_pre) == "resnet18_preprocessing.onnx"
    assert json.loads((tmp_path / "resnet18/onnx/resnet18_preprocessing.json").read_text())[
        "input"
    ] == ("images")
    assert sorted(os.listdir(tmp_path / "resnet18" / "onnx")) == [  # no temporary file left
        "resnet18.json",
        "resnet18.onnx",
        "resnet18_preprocessing.json",
        "resnet18_preprocessing.onnx",
    ]
    assert oct(os.stat(path).st_mode & 0o777) == "0o644"
    # onnxruntime alone, with tensorflow, keras and keras_classics not importable.
    raw = np.stack([photos["coffee"]]).astype(np.float32)
    spec = keras_classics.get_spec("resnet18")
    expected = keras_probabilities(model, preprocess_pixels(raw.astype(np.uint8), spec, 32))
    np.save(tmp_path / "raw.npy", raw)
    for blocked in ("tensorflow", "keras", "keras_classics"):
        (tmp_path / "blocked" / blocked).mkdir(parents=True)
        (tmp_path / "blocked" / blocked / "__init__.py").write_text(
            f"raise ImportError('{blocked} is blocked: the ONNX file must not need it')\n"
        )
    code = (
        "import sys, numpy as np, onnxruntime as ort\n"
        "s = ort.InferenceSession(sys.argv[1], providers=['CPUExecutionProvider'])\n"
        "print(s.run(['probabilities'], {'images': np.load(sys.argv[2])})[0].tolist())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, with_pre, str(tmp_path / "raw.npy")],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(tmp_path / "blocked")},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert_close(np.array(json.loads(result.stdout)), expected)


def test_writer_refuses_bad_preprocessing(tmp_path):
    with pytest.raises(ValueError, match=r"preprocessing='yes' is invalid; accepted: True"):
        export.export_model(
            tiny_classifier(), "resnet18", format="onnx", preprocessing="yes", output_dir="x"
        )
    with pytest.raises(ValueError, match="preprocessing=True is invalid with format='tflite'"):
        export.check_options("tflite", "none", None, preprocessing=True)


@pytest.mark.parametrize(
    "args,message",
    [
        (
            ["--format", "onnx", "--quantize", "int8"],
            "quantize='int8' is invalid with format='onnx'; accepted: 'none'",
        ),
        (["--format", "onnx", "--version", "2"], "version=2 is invalid with format='onnx'"),
        (["--preprocessing"], "preprocessing=True is invalid with format='saved_model'"),
        (["--format", "tflite", "--preprocessing"], "invalid with format='tflite'"),
        (["--format", "ONNX"], "format='ONNX' is invalid; accepted: ('saved_model', 'tflite',"),
    ],
)
def test_cli_refusals(args, message, capsys, tmp_path):
    assert export_main(["--model", "resnet18", *args, "--output_dir", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err
    assert not os.listdir(tmp_path)


def test_cli_refuses_an_existing_file_before_building(tmp_path, capsys, monkeypatch):
    from keras_classics.export import __main__ as cli

    target = tmp_path / "resnet18" / "onnx" / "resnet18_preprocessing.onnx"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"an earlier export")

    def build(*args):
        raise AssertionError("the model was built before the file was checked")

    monkeypatch.setattr(cli, "load_model", build)
    argv = ["--model", "resnet18", "--format", "onnx", "--preprocessing"]
    assert cli.main([*argv, "--output_dir", str(tmp_path)]) == 2
    assert "resnet18_preprocessing.onnx' already exists" in capsys.readouterr().err
    assert target.read_bytes() == b"an earlier export"
