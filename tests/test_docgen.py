"""The generated blocks of docs/models/*.md and the README's model table, against the registry.

keras_classics.docgen regenerates each family page's model list and weights table from the
registry and the weight cards; a page that differs is stale (`python -m keras_classics.docgen`
rewrites it). The README's model table has a hand-written paper column; its other columns are
checked against the registry here and its parameter counts against tests/references.py.
"""

import pathlib
import re

import pytest

import keras_classics
from keras_classics import docgen
from references import TRAINABLE_PARAMS

ROOT = pathlib.Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "docs" / "models").glob("*.md"))


def test_there_are_family_pages():
    assert {p.stem for p in PAGES} >= {
        "alexnet",
        "vgg",
        "googlenet",
        "inception",
        "resnet",
        "resnext",
    }


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_generated_blocks_are_fresh(page):
    text = page.read_text(encoding="utf-8")
    assert docgen.render(text) == text, (
        f"{page.relative_to(ROOT)} is stale: run `python -m keras_classics.docgen`"
    )


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_each_page_lists_and_weighs_the_same_models(page):
    blocks = dict(docgen.blocks(page.read_text(encoding="utf-8")))
    assert set(blocks) == {"models-list", "weights-table"}
    assert blocks["models-list"] == blocks["weights-table"]


def test_every_registered_model_is_on_exactly_one_page():
    pages_of = {}
    for page in PAGES:
        for kind, names in docgen.blocks(page.read_text(encoding="utf-8")):
            if kind == "models-list":
                for name in names:
                    pages_of.setdefault(name, []).append(page.name)
    unplaced = [n for n in keras_classics.list_models() if len(pages_of.get(n, [])) != 1]
    assert not unplaced, {n: pages_of.get(n, []) for n in unplaced}


def test_weights_table_rows_are_the_cards():
    # The table against the cards read independently: one row per card, the default first,
    # its published top-1 as written on the card.
    text = docgen.weights_table(["resnet50", "vgg16_c"])
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    cards = keras_classics.list_weights("resnet50")
    assert len(rows) == len(cards) >= 2
    assert rows[0].startswith(f'| `resnet50` | `"{cards[0].weights_tag}"` = `"imagenet"` |')
    for row, card in zip(rows, cards):
        assert f"| {card.top1:.3f} | {card.top5:.3f} |" in row
        assert f"| {card.params:,} |" in row
    assert text.endswith("No published weights: `vgg16_c`.")


def test_a_block_argument_that_covers_no_model_is_refused():
    with pytest.raises(ValueError, match="'family:nosuch' covers no registered model"):
        docgen.select("family:nosuch")
    with pytest.raises(ValueError, match="'resnet9000' covers no registered model"):
        docgen.select("resnet9000")


def test_main_rewrites_a_stale_page_and_check_reports_it(tmp_path, capsys):
    page = tmp_path / "page.md"
    page.write_text("# x\n\n<!-- weights-table alexnet -->\nold\n<!-- /weights-table -->\n")
    assert docgen.main(["--check", str(page)]) == 1
    assert "old" in page.read_text()
    assert docgen.main([str(page)]) == 0
    assert "old" not in page.read_text() and "56.522" in page.read_text()
    assert docgen.main(["--check", str(page)]) == 0
    assert "stale" in capsys.readouterr().out


def test_nothing_in_the_package_imports_docgen():
    package = ROOT / "keras_classics"
    importers = [
        str(p.relative_to(ROOT))
        for p in package.rglob("*.py")
        if p.name != "docgen.py" and re.search(r"\bdocgen\b", p.read_text(encoding="utf-8"))
    ]
    assert not importers


def test_docgen_names_no_family():
    code = (ROOT / "keras_classics" / "docgen.py").read_text(encoding="utf-8")
    families = {keras_classics.get_spec(n).family for n in keras_classics.list_models()}
    # The docstring's examples are documentation, not code.
    body = code.split('"""', 2)[2]
    assert [f for f in families if re.search(rf"\b{f}\b", body, re.I)] == []


def _readme_models_table():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text.split("<!-- models-table -->\n")[1].split("\n<!-- /models-table -->")[0]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in table.splitlines()]
    return rows[0], rows[2:]


def test_readme_models_table_matches_the_registry():
    header, rows = _readme_models_table()
    assert header == [
        "name",
        "builder",
        "paper",
        "input",
        "min input",
        "preprocessing",
        "trainable params",
        "GMACs",
    ]
    assert [r[0] for r in rows] == keras_classics.list_models()
    for name, builder, _paper, size, min_size, mode, params, _gmacs in rows:
        spec = keras_classics.get_spec(name)
        assert (builder, int(size), int(min_size), mode) == (
            spec.builder.__name__,
            spec.input.size,
            spec.min_size,
            spec.input.mode,
        ), name
        assert int(params.replace(",", "")) == TRAINABLE_PARAMS[name], name
