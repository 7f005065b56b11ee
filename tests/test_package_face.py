"""The package face (keras_classics/__init__.py): lazy (PEP 562), every public name as before."""

import subprocess
import sys

import keras_classics
import keras_classics.models

# The names of 0.1.0's eager face beside the models' (the builders, feature_info, FeatureInfo,
# inference_model).
FACE = {
    "ModelSpec",
    "decode_predictions",
    "get_model",
    "get_spec",
    "get_weights",
    "layers",
    "list_models",
    "list_weights",
    "preprocess_input",
    "register_model",
}


def test_import_loads_no_tensorflow():
    code = "import sys, keras_classics; print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]
    assert result.stderr == ""


def test_all_lists_every_public_name_and_each_resolves():
    expected = set(keras_classics.models.__all__) | FACE
    assert {"ResNet50", "feature_info", "FeatureInfo", "inference_model"} <= expected
    assert sorted(keras_classics.__all__) == sorted(expected)
    assert expected <= set(dir(keras_classics))
    for name in expected:
        assert getattr(keras_classics, name) is not None, name
    assert keras_classics.ResNet50 is keras_classics.models.ResNet50
    assert keras_classics.layers is sys.modules["keras_classics.layers"]
    assert keras_classics.get_spec("resnet50").name == "resnet50"
    namespace = {}
    exec("from keras_classics import *", namespace)
    assert expected <= set(namespace)


def test_unknown_names_are_attribute_errors():
    assert not hasattr(keras_classics, "ResNet51")
    assert not hasattr(keras_classics, "_private")
    assert isinstance(keras_classics.__version__, str)
