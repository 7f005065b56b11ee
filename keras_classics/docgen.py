"""The generated blocks of docs/models/*.md: each family page's model list and weights table.

A page marks a block with the models it covers, as registry-name patterns or a registry family:

    <!-- weights-table family:resnet -->      every model whose spec.family is "resnet"
    <!-- models-list bn_inception inception_* -->   fnmatch patterns over list_models()
    ...generated...
    <!-- /weights-table -->

`python -m keras_classics.docgen` rewrites every block in place (`--check` only reports stale
pages, exit status 1); tests/test_docgen.py regenerates them and compares. The tables come from
the public API only (list_models, get_spec, list_weights): a weight card's published accuracy,
its evaluation input and licence, as torchvision's pages are generated from its Weights
metadata. Nothing in the package imports this module; it is an application, as the CLIs are.
"""

import argparse
import fnmatch
import pathlib
import re
import sys

import keras_classics

KINDS = ("models-list", "weights-table")
_BLOCK = re.compile(
    r"(?P<open><!-- (?P<kind>" + "|".join(KINDS) + r") (?P<args>[^>]*?) -->\n)"
    r"(?P<body>.*?)"
    r"(?P<close><!-- /(?P=kind) -->)",
    re.S,
)


def select(args):
    """The registry names a block's arguments cover, in the registry's order.

    Each argument is `family:NAME` (every model whose spec.family is NAME) or an fnmatch pattern
    over the registry's names; one that covers no model is a ValueError."""
    names = keras_classics.list_models()
    chosen = set()
    for arg in args.split():
        if arg.startswith("family:"):
            family = arg.partition(":")[2]
            found = {n for n in names if keras_classics.get_spec(n).family == family}
        else:
            found = set(fnmatch.filter(names, arg))
        if not found:
            families = sorted({keras_classics.get_spec(n).family for n in names})
            raise ValueError(
                f"docgen block argument {arg!r} covers no registered model; accepted: "
                f"family:NAME with NAME in {families}, or a pattern over list_models()."
            )
        chosen |= found
    return [n for n in names if n in chosen]


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def models_list(names):
    """Markdown: each model's builder, paper row, input sizes, preprocessing and card count."""
    header = ["name", "builder", "paper", "input", "min input", "preprocessing", "weight cards"]
    rows = []
    for name in names:
        spec = keras_classics.get_spec(name)
        cards = len(keras_classics.list_weights(name))
        rows.append(
            [
                f"`{name}`",
                f"`{spec.builder.__name__}`",
                spec.paper,
                spec.input.size,
                spec.min_size,
                spec.input.mode,
                cards or "",
            ]
        )
    return _table(header, rows)


def _eval_input(config):
    return f"{config.size}, crop {config.crop_ratio:.4g}, {config.interpolation}, {config.mode}"


def weights_table(names):
    """Markdown: every card of `names` with its upstream's published figures; defaults first."""
    header = ["model", "`weights=`", "top-1", "top-5", "eval input", "params", "GMACs", "licence"]
    rows, without = [], []
    for name in names:
        cards = keras_classics.list_weights(name)
        if not cards:
            without.append(f"`{name}`")
        for i, card in enumerate(cards):
            tag = f'`"{card.weights_tag}"`'
            rows.append(
                [
                    f"`{name}`",
                    f'{tag} = `"imagenet"`' if i == 0 else tag,
                    f"{card.top1:.3f}",
                    f"{card.top5:.3f}",
                    _eval_input(card.input),
                    f"{card.params:,}",
                    "" if card.gmacs is None else f"{card.gmacs:.2f}",
                    card.license,
                ]
            )
    text = _table(header, rows) if rows else "No model of this page has a weight card."
    if rows and without:
        text += "\n\nNo published weights: " + ", ".join(without) + "."
    return text


_RENDER = {"models-list": models_list, "weights-table": weights_table}


def render(text):
    """`text` with every generated block rewritten from the registry and the weight cards."""

    def block(match):
        body = _RENDER[match["kind"]](select(match["args"]))
        return match["open"] + body + "\n" + match["close"]

    return _BLOCK.sub(block, text)


def blocks(text):
    """The (kind, covered names) of each generated block of `text`."""
    return [(m["kind"], select(m["args"])) for m in _BLOCK.finditer(text)]


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m keras_classics.docgen",
        description="Rewrite the generated blocks (model lists, weights tables) of the docs.",
    )
    parser.add_argument(
        "paths",
        nargs="*",
        type=pathlib.Path,
        help="Markdown files (default: docs/models/*.md under the current directory)",
    )
    parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if a page is stale"
    )
    args = parser.parse_args(argv)
    paths = args.paths or sorted(pathlib.Path("docs", "models").glob("*.md"))
    if not paths:
        parser.error("no Markdown files given and none in docs/models/ here")
    stale = []
    for path in paths:
        text = path.read_text(encoding="utf-8")
        new = render(text)
        if new != text:
            stale.append(path)
            if not args.check:
                path.write_text(new, encoding="utf-8")
    for path in stale:
        print(f"{path}: {'stale' if args.check else 'rewritten'}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
