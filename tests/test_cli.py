"""`python -m keras_classics list / summary` and the stage grouping behind summary."""

import subprocess
import sys

import pytest

import keras_classics
from keras_classics.__main__ import main
from keras_classics.analysis import stage_of, stage_table
from registry_params import built


@pytest.mark.parametrize(
    "layer,stage",
    [
        ("conv3_block2_1_conv", "conv3"),
        ("conv1_1_bn", "conv1"),
        ("fc6_drop", "fc6"),
        ("pool1_pad", "pool1"),
        ("inception_4a_5x5_reduce", "inception_4a"),
        ("mixed_5b_branch1", "mixed_5b"),
        ("avg_pool", "avg_pool"),
        ("predictions", "predictions"),
    ],
)
def test_stage_of(layer, stage):
    assert stage_of(layer) == stage


@pytest.mark.parametrize("default_model", [built("resnet50")], indirect=True)
def test_stage_table_of_resnet50_follows_table_1(default_model):
    rows = stage_table(default_model.model)
    shapes = {stage: shape[1:] for stage, shape, _, _ in rows}
    # ResNet paper Table 1 output sizes at 224.
    assert shapes["conv1"] == (112, 112, 64)
    assert shapes["conv2"] == (56, 56, 256)
    assert shapes["conv3"] == (28, 28, 512)
    assert shapes["conv4"] == (14, 14, 1024)
    assert shapes["conv5"] == (7, 7, 2048)
    assert sum(r[2] for r in rows) == default_model.model.count_params()


def test_list_prints_every_model(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in keras_classics.list_models():
        assert f"\n{name} " in out


def test_summary_totals(capsys):
    assert main(["summary", "resnet34", "--set", "shortcut=A"]) == 0
    out = capsys.readouterr().out
    # Option A adds no parameters: plainnet34's count (tests/references.py).
    assert "trainable params: 21,623,848" in out
    assert "multiply-adds: 3.6" in out  # ResNet paper Table 1: 3.6 G


def test_summary_unknown_model_exits_2():
    result = subprocess.run(
        [sys.executable, "-m", "keras_classics", "summary", "resnet05"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "Did you mean 'resnet50'" in result.stderr
