"""The SavedModel writer: versions, never overwriting, atomic publication, models.config."""

import os

import pytest

import keras_classics
from export_helpers import tiny_classifier
from keras_classics import export
from keras_classics.export import graph_check, models_config, saved_model

SPEC = keras_classics.get_spec("resnet18")


def test_versions_count_up_and_are_never_overwritten(tmp_path):
    model = tiny_classifier()
    out = str(tmp_path)
    first = export.export_model(model, SPEC, output_dir=out)
    second = export.export_model(model, SPEC, output_dir=out)
    assert (first, second) == (str(tmp_path / "resnet18" / "1"), str(tmp_path / "resnet18" / "2"))
    fifth = export.export_model(model, SPEC, output_dir=out, version=5)
    assert fifth.endswith(os.path.join("resnet18", "5"))
    assert export.versions(str(tmp_path / "resnet18")) == [1, 2, 5]
    assert export.next_version(str(tmp_path / "resnet18")) == 6
    stamp = os.stat(os.path.join(second, "saved_model.pb")).st_mtime_ns
    with pytest.raises(
        ValueError,
        match=r"version=2 already exists at .*resnet18/2'; accepted: "
        r"a version not yet exported \(next free: 6\)",
    ):
        export.export_model(model, SPEC, output_dir=out, version=2)
    assert os.stat(os.path.join(second, "saved_model.pb")).st_mtime_ns == stamp
    # TF Serving reads world-readable folders; nothing but versions and no temp folders.
    assert oct(os.stat(first).st_mode & 0o777) == "0o755"
    assert sorted(os.listdir(tmp_path / "resnet18")) == ["1", "2", "5"]


@pytest.mark.parametrize("version", [0, -1, True, 1.5, "3"])
def test_invalid_versions(tmp_path, version):
    with pytest.raises(
        ValueError, match=f"version={version!r} is invalid; accepted: a positive integer"
    ):
        export.export_model(tiny_classifier(), SPEC, output_dir=str(tmp_path), version=version)


def test_a_failed_export_leaves_no_version_and_no_temp_folder(tmp_path, monkeypatch):
    def fail(path):
        assert os.path.basename(path).startswith(".tmp-1-")  # written beside, not as "1"
        assert os.path.isfile(os.path.join(path, "saved_model.pb"))
        raise ValueError("simulated failure after writing")

    monkeypatch.setattr(graph_check, "check", fail)
    with pytest.raises(ValueError, match="simulated failure"):
        export.export_model(tiny_classifier(), SPEC, output_dir=str(tmp_path))
    assert os.listdir(tmp_path / "resnet18") == []
    assert not (tmp_path / "models.config").exists()


def test_temp_and_non_integer_folders_are_not_versions(tmp_path):
    for name in (".tmp-3-abc", "latest", "007x", "4"):
        (tmp_path / name).mkdir()
    (tmp_path / "9").write_text("a file, not a folder")
    assert models_config.versions(str(tmp_path)) == [4]
    assert saved_model.next_version(str(tmp_path / "absent")) == 1


def test_metadata_is_recorded_beside_the_graph(tmp_path):
    path = export.export_model(
        tiny_classifier(),
        SPEC,
        output_dir=str(tmp_path),
        class_names=list("abcdefghij"),
        crop_ratio=1.0,
    )
    import json

    with open(os.path.join(path, saved_model.METADATA)) as f:
        meta = json.load(f)
    assert meta == {
        "model": "resnet18",
        "keras_name": "tiny",
        "image_size": 32,
        "crop_ratio": 1.0,
        "preprocessing": "torch",
        "interpolation": "bilinear",
        "num_classes": 10,
        "class_names": list("abcdefghij"),
        "top_k": 5,
        "model_outputs": "logits",
    }


def test_models_config_lists_every_exported_model_and_parses(tmp_path):
    out = str(tmp_path)
    export.export_model(tiny_classifier(), SPEC, output_dir=out)
    export.export_model(tiny_classifier(), SPEC, output_dir=out, name="tiny_resnet")
    (tmp_path / "no_versions_yet").mkdir()
    text = (tmp_path / "models.config").read_text()
    config = models_config.parse(text)  # tensorflow_serving's ModelServerConfig
    entries = [(c.name, c.base_path, c.model_platform) for c in config.model_config_list.config]
    assert entries == [
        ("resnet18", "/models/resnet18", "tensorflow"),
        ("tiny_resnet", "/models/tiny_resnet", "tensorflow"),
    ]
    assert models_config.render(["a"], base_path="/srv") == (
        'model_config_list {\n  config {\n    name: "a"\n    base_path: "/srv/a"\n'
        '    model_platform: "tensorflow"\n  }\n}\n'
    )
    with pytest.raises(ValueError, match="does not parse as a ModelServerConfig"):
        models_config.parse("model_config_list { config { nme: 'x' } }")
    with pytest.raises(ValueError, match=r"model name='a\"b' is invalid"):
        models_config.render(['a"b'])


def test_export_trained_writes_the_next_version(tmp_path, monkeypatch, capsys):
    # train/main.py --export: export_trained(model, spec, class_names=..., image_size=...)
    # with saved_models/ relative to the working directory.
    monkeypatch.chdir(tmp_path)
    model = tiny_classifier()  # logits, as the training program builds it
    path = export.export_trained(
        model, SPEC, class_names=[str(i) for i in range(10)], image_size=32
    )
    assert path == os.path.join("saved_models", "resnet18", "1")
    assert f"exported SavedModel: {path}" in capsys.readouterr().out
    assert export.export_trained(model, SPEC, image_size=32).endswith("2")
