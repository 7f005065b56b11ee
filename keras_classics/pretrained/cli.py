"""`keras-classics weights list|fetch|path|verify` (wired into keras_classics/__main__.py)."""

import os
import sys

from keras_classics import pretrained
from keras_classics.analysis import text_table
from keras_classics.pretrained.verify import PHOTOS, verify
from keras_classics.records import download
from keras_classics.records.imagenet import class_index


def add_parser(sub):
    p = sub.add_parser("weights", help="pretrained weight cards: list, fetch, path, verify")
    commands = p.add_subparsers(dest="weights_command", required=True)
    q = commands.add_parser("list", help="the weight cards ('*': a model's default)")
    q.add_argument("pattern", nargs="?", help="model names, wildcards allowed ('resnet*')")
    q.add_argument("--markdown", action="store_true", help="print a Markdown table")
    q.set_defaults(run=list_command)
    q = commands.add_parser(
        "fetch", help="download, verify and convert into the cache (for air-gapped machines)"
    )
    q.add_argument("names", nargs="*", metavar="NAME[:SOURCE[:TAG]]", help="e.g. resnet50")
    q.add_argument("--all", action="store_true", help="every card")
    q.set_defaults(run=fetch_command)
    q = commands.add_parser("path", help="where a card's files go in the cache")
    q.add_argument("names", nargs="+", metavar="NAME[:SOURCE[:TAG]]")
    q.set_defaults(run=path_command)
    q = commands.add_parser(
        "verify", help="top-1 of each card on scikit-image's photos (needs the weights)"
    )
    q.add_argument("names", nargs="*", metavar="NAME[:SOURCE[:TAG]]")
    q.add_argument("--all", action="store_true", help="every card")
    q.set_defaults(run=verify_command)


def _cards(args):
    if getattr(args, "all", False):
        if args.names:
            raise ValueError("--all takes no names; accepted: --all, or names.")
        return list(pretrained.CARDS.values())
    if not args.names:
        raise ValueError("no weights named; accepted: NAME[:SOURCE[:TAG]] ... or --all.")
    return [pretrained.get_weights(name) for name in args.names]


def list_command(args):
    """The cards, a model's default first ('*'); plain text adds whether each is cached
    (docs/pretrained.md holds the Markdown table, which does not depend on the machine)."""

    header = ["card", "top-1", "top-5", "eval input", "params", "GMACs", "licence"]
    rows = []
    for card in pretrained.list_weights(args.pattern):
        default = pretrained.default_card(card.model) is card
        size, crop = card.input.size, card.input.crop_ratio
        row = [
            ("* " if default else "  ") + card.name,
            f"{card.top1:.3f}",
            f"{card.top5:.3f}",
            f"{size} crop {crop:.4g} {card.input.interpolation} {card.input.mode}",
            f"{card.params:,}",
            "" if card.gmacs is None else f"{card.gmacs:.2f}",
            card.license,
        ]
        if not args.markdown:
            row.append("yes" if os.path.isfile(pretrained.converted_path(card)) else "no")
        rows.append(row)
    print(text_table(rows, header + ([] if args.markdown else ["cached"]), args.markdown))


def fetch_command(args):
    for card in _cards(args):
        print(f"{card.name}: {pretrained.fetch(card)}")


def path_command(args):
    for card in _cards(args):
        print(f"{card.name}: {pretrained.converted_path(card)}")
        print(f"  upstream file: {card.url}")
        print(f"  placed by hand at: {download.download_path(card.url)}")


def verify_command(args):
    names = class_index()
    failed = 0
    print("card | " + " | ".join(PHOTOS) + " | all right")
    for name, marks, ok in verify(_cards(args)):
        cells = [f"{names[i][1]}{'' if right else ' (wrong)'}" for i, right in marks.values()]
        print(f"{name} | " + " | ".join(cells) + f" | {'yes' if ok else 'NO'}")
        failed += not ok
    if failed:
        print(f"{failed} card(s) misclassified a photo.", file=sys.stderr)
        return 1
    return 0
