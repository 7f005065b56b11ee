"""benchmarks/degradation.py's table and figure, on a small fabricated history: the training
itself is not run here (it takes the better part of an hour)."""

import csv
import io
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks"))
import degradation

PAIRS = degradation.PAIRS["cifar"]
# Two seeds, three epochs; the finals are what the table must show.
HISTORIES = {
    0: {
        "plain20_cifar": {"train_error": [0.5, 0.3, 0.20], "test_error": [0.5, 0.35, 0.25]},
        "plain56_cifar": {"train_error": [0.7, 0.5, 0.40], "test_error": [0.7, 0.55, 0.42]},
        "resnet20_cifar": {"train_error": [0.4, 0.2, 0.10], "test_error": [0.45, 0.3, 0.15]},
        "resnet56_cifar": {"train_error": [0.4, 0.2, 0.06], "test_error": [0.45, 0.3, 0.13]},
    },
    1: {
        "plain20_cifar": {"train_error": [0.5, 0.3, 0.22], "test_error": [0.5, 0.35, 0.27]},
        "plain56_cifar": {"train_error": [0.7, 0.5, 0.36], "test_error": [0.7, 0.55, 0.40]},
        "resnet20_cifar": {"train_error": [0.4, 0.2, 0.12], "test_error": [0.45, 0.3, 0.17]},
        "resnet56_cifar": {"train_error": [0.4, 0.2, 0.08], "test_error": [0.45, 0.3, 0.15]},
    },
}


def test_table_and_figure_from_a_history(tmp_path):
    rows = degradation.write_outputs(HISTORIES, PAIRS, 100, str(tmp_path), "fabricated")
    by_net = {r["net"]: r for r in rows}
    # Means of the two seeds' last epochs, and their spread (max - min).
    assert by_net["plain20_cifar"]["train_error"] == pytest.approx((0.21, 0.02))
    assert by_net["plain56_cifar"]["test_error"] == pytest.approx((0.41, 0.02))
    # Deep minus shallow, seed by seed: plain +0.20 and +0.14, residual -0.04 and -0.04.
    plain = by_net["plain56_cifar - plain20_cifar"]
    assert plain["train_error"] == pytest.approx((0.17, 0.06))
    assert plain["test_error"] == pytest.approx((0.15, 0.04))
    residual = by_net["resnet56_cifar - resnet20_cifar"]
    assert residual["train_error"] == pytest.approx((-0.04, 0.0), abs=1e-12)
    assert [r["net"] for r in rows] == [
        "plain20_cifar",
        "plain56_cifar",
        "plain56_cifar - plain20_cifar",
        "resnet20_cifar",
        "resnet56_cifar",
        "resnet56_cifar - resnet20_cifar",
    ]
    markdown = (tmp_path / "degradation.md").read_text()
    assert "| plain56_cifar - plain20_cifar | plain | 17.00 ± 3.00 | 15.00 ± 2.00 |" in markdown
    assert "| resnet56_cifar | residual | 7.00 ± 1.00 | 14.00 ± 1.00 |" in markdown
    table = list(csv.DictReader(io.StringIO((tmp_path / "degradation.csv").read_text())))
    assert float(table[1]["train_error"]) == pytest.approx(0.38)
    assert float(table[5]["test_error"]) == pytest.approx(-0.02)
    assert (tmp_path / "degradation.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_figure_is_fig_6s_layout(tmp_path):
    fig = degradation.plot(HISTORIES, PAIRS, 100, str(tmp_path / "f.png"), "fabricated")
    plain, residual = fig.axes
    assert (plain.get_title(), residual.get_title()) == ("plain nets", "residual nets")
    lines = {line.get_label(): line for line in plain.get_lines()}
    test56 = lines["plain56_cifar test"]
    # Iterations on x; the seeds' mean error in percent on y; test bold, training thin.
    assert list(test56.get_xdata()) == [100, 200, 300]
    assert list(test56.get_ydata()) == pytest.approx([70.0, 55.0, 41.0])
    assert test56.get_linewidth() > lines["plain56_cifar train"].get_linewidth()


def test_one_seed_has_no_spread_and_bad_arguments_are_refused():
    rows = degradation.summarise({0: HISTORIES[0]}, PAIRS)
    assert "±" not in degradation.table_markdown(rows)
    with pytest.raises(ValueError, match=r"seeds='0,0' is invalid"):
        degradation.parse_seeds("0,0")
    with pytest.raises(ValueError, match=r"pairs='cifar10' is invalid; accepted: \('cifar'"):
        degradation.pairs_of("cifar10")
