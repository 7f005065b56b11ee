"""python -m keras_classics.export and python -m keras_classics.predict."""

import contextlib
import io
import os
import pathlib
import subprocess
import sys

import pytest

import keras_classics
from export_helpers import keras_probabilities, preprocess_bytes
from keras_classics import predict
from keras_classics.export import __main__ as export_cli


@pytest.fixture(scope="module")
def files(tmp_path_factory, encoded):
    """A trained-run-like weights file (10 classes, logits, 32x32), its class names and
    two photo files (JPEG, PNG) plus a damaged JPEG."""
    root = tmp_path_factory.mktemp("cli")
    model = keras_classics.get_model(
        "resnet18", classes=10, classifier_activation=None, input_shape=(32, 32, 3)
    )
    weights = str(root / "best.weights.h5")
    model.save_weights(weights)
    names = root / "names.txt"
    names.write_text("".join(f"kind {i}\n" for i in range(10)))
    jpeg, png = root / "cat.jpg", root / "coffee.png"
    jpeg.write_bytes(encoded[0][1])
    png.write_bytes([b for f, b in encoded if f == "png"][0])
    bad = root / "bad.jpg"
    bad.write_bytes(encoded[0][1][:2000])
    return {
        "root": root,
        "model": model,
        "weights": weights,
        "names": str(names),
        "images": [str(jpeg), str(png)],
        "bad": str(bad),
    }


def run_export(files, *extra):
    out = str(files["root"] / "saved_models")
    return export_cli.main(
        [
            "--model",
            "resnet18",
            "--weights",
            files["weights"],
            "--class_names",
            files["names"],
            "--image_size",
            "32",
            "--output_dir",
            out,
            *extra,
        ]
    )


def expected_top(files):
    spec = keras_classics.get_spec("resnet18")
    data = [pathlib.Path(p).read_bytes() for p in files["images"]]
    p = keras_probabilities(files["model"], preprocess_bytes(data, spec, 32))
    return [[(f"kind {i}", row[i]) for i in row.argsort()[::-1][:5]] for row in p]


def parse_predict(text):
    """{image: [(name, score)]} from predict's output."""
    result, current = {}, None
    for line in text.splitlines():
        if not line.startswith("  "):
            current = result.setdefault(line.strip(), [])
        else:
            rank, rest = line.strip().split(". ", 1)
            name, score = rest.rsplit(" ", 1)
            current.append((name.strip(), float(score)))
    return result


def check_predictions(text, files, tol):
    got = parse_predict(text)
    assert list(got) == files["images"]
    for image, expected in zip(files["images"], expected_top(files)):
        assert [n for n, _ in got[image]] == [n for n, _ in expected]
        for (_, s), (_, e) in zip(got[image], expected):
            assert abs(s - e) <= tol


@pytest.fixture(scope="module")
def exported(files):
    """The first export of the module, shared by the tests that need a SavedModel:
    (exit status, what it printed)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = run_export(files)
    return status, out.getvalue().strip()


def test_saved_model_export_and_predict(files, exported, capsys):
    status, path = exported
    assert status == 0
    assert path == str(files["root"] / "saved_models" / "resnet18" / "1")
    assert predict.main(["--model_path", path, *files["images"]]) == 0
    check_predictions(capsys.readouterr().out, files, tol=1e-4)


def test_tflite_export_and_predict_in_a_subprocess(files, capsys):
    assert run_export(files, "--format", "tflite") == 0
    path = capsys.readouterr().out.strip()
    tflite_dir = files["root"] / "saved_models" / "resnet18" / "tflite"
    assert path == str(tflite_dir / "resnet18_none.tflite")
    assert sorted(os.listdir(tflite_dir)) == ["resnet18_none.json", "resnet18_none.tflite"]
    # TFLite files stay out of the integer folders TF Serving loads.
    assert keras_classics.export.versions(str(tflite_dir.parent)) in ([], [1])
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "keras_classics.predict",
            "--model_path",
            path,
            *files["images"],
            files["bad"],
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2  # the damaged file fails, the others print
    check_predictions(result.stdout, files, tol=1e-4)
    assert f"error: {files['bad']}: " in result.stderr


def test_predict_names_a_bad_image_from_the_saved_model(files, exported, capsys):
    path = exported[1]
    assert predict.main(["--model_path", path, files["bad"], files["images"][0]]) == 2
    captured = capsys.readouterr()
    assert captured.err.strip() == (
        f"error: {files['bad']}: assertion failed: "
        "[serving_bytes: bad image_bytes:] "
        "[truncated image data (no end-of-image marker)]"
    )
    assert captured.out.startswith(files["images"][0])


@pytest.mark.parametrize(
    "args,message",
    [
        (["--model", "resnet05"], "Unknown model name='resnet05'. Did you mean"),
        (
            ["--model", "resnet18", "--format", "coreml"],
            "format='coreml' is invalid; accepted: ('saved_model', 'tflite', 'onnx')",
        ),
        (
            ["--model", "resnet18", "--format", "tflite", "--quantize", "int4"],
            "quantize='int4' is invalid; accepted: ('none', 'float16', 'dynamic', 'int8')",
        ),
        (
            ["--model", "resnet18", "--quantize", "int8"],
            "quantize='int8' is invalid with format='saved_model'",
        ),
        (
            ["--model", "resnet18", "--format", "tflite", "--version", "3"],
            "version=3 is invalid with format='tflite'",
        ),
        (["--model", "resnet18", "--version", "0"], "version=0 is invalid; accepted: a positive"),
        (
            ["--model", "resnet18", "--weights", "missing.weights.h5"],
            "weights='missing.weights.h5' does not exist; accepted: the path to a .weights.h5 or "
            ".keras file",
        ),
        (
            ["--model", "resnet18", "--class_names", "missing.txt"],
            "class_names='missing.txt' does not exist",
        ),
    ],
)
def test_export_refusals(args, message, capsys, tmp_path):
    assert export_cli.main([*args, "--output_dir", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err
    assert not os.listdir(tmp_path)


def test_existing_version_is_refused_before_building(files, exported, capsys, monkeypatch):
    def build(*args):
        raise AssertionError("the model was built before the version was checked")

    monkeypatch.setattr(export_cli, "load_model", build)
    stamp = os.stat(os.path.join(exported[1], "saved_model.pb")).st_mtime_ns
    assert run_export(files, "--version", "1") == 2
    assert "version=1 already exists at" in capsys.readouterr().err
    assert os.stat(os.path.join(exported[1], "saved_model.pb")).st_mtime_ns == stamp


def test_weights_of_another_shape_are_refused(files, capsys):
    assert (
        export_cli.main(
            [
                "--model",
                "resnet18",
                "--weights",
                files["weights"],
                "--output_dir",
                str(files["root"] / "other"),
            ]
        )
        == 2
    )
    assert "does not fit architecture" in capsys.readouterr().err


def test_predict_refuses_what_is_not_a_model(tmp_path, capsys):
    assert predict.main(["--model_path", str(tmp_path), "x.jpg"]) == 2
    assert "is invalid; accepted: a SavedModel version folder" in capsys.readouterr().err
    lone = tmp_path / "lone.tflite"
    lone.write_bytes(b"")
    assert predict.main(["--model_path", str(lone), "x.jpg"]) == 2
    assert "has no 'lone.json' beside it" in capsys.readouterr().err
