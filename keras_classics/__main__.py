"""Command line: `python -m keras_classics list`, `summary NAME` and `weights ...`."""

import argparse
import ast
import sys

from keras_classics import _environment


def _parse_option(text):
    """KEY=VALUE with VALUE a Python literal when it parses as one ('A' and A both work)."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"--set {text!r} is invalid; accepted: KEY=VALUE.")
    try:
        return key, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return key, value


def list_command(args):
    import keras

    import keras_classics
    from keras_classics.analysis import count_macs, text_table

    header = ["name", "builder", "paper", "input", "min input", "preprocessing"]
    if args.counts:
        header += ["trainable params", "GMACs"]
    rows = []
    for name in keras_classics.list_models(args.family):
        spec = keras_classics.get_spec(name)
        row = [
            name,
            spec.builder.__name__,
            spec.paper,
            spec.input.size,
            spec.min_size,
            spec.input.mode,
        ]
        if args.counts:
            model = spec.build()
            trainable = sum(int(w.numpy().size) for w in model.trainable_weights)
            row += [f"{trainable:,}", f"{count_macs(model) / 1e9:.2f}"]
            keras.backend.clear_session()
        rows.append(row)
    print(text_table(rows, header, args.markdown))


def summary_command(args):
    import keras_classics
    from keras_classics.analysis import stage_table, text_table

    spec = keras_classics.get_spec(args.name)
    size = args.input_size or spec.input.size
    options = dict(args.set or [])
    if size != spec.input.size:
        options.setdefault("input_shape", (size, size, 3))
        if spec.fixed_head:
            options.setdefault("include_top", False)
    if args.weights:
        options["weights"] = args.weights
    model = spec.build(**options)
    rows = stage_table(model)
    total_params = sum(r[2] for r in rows)
    total_macs = sum(r[3] for r in rows)
    trainable = sum(int(w.numpy().size) for w in model.trainable_weights)
    print(
        f"{spec.name} ({spec.builder.__name__}), {spec.paper}; input {size}x{size}x3"
        + (f"; options {options}" if options else "")
    )
    body = [
        [stage, "x".join(str(d) for d in shape[1:]), f"{params:,}", f"{macs / 1e6:,.1f}"]
        for stage, shape, params, macs in rows
    ]
    body.append(["total", "", f"{total_params:,}", f"{total_macs / 1e6:,.1f}"])
    print(text_table(body, ["stage", "output", "params", "MMACs"], args.markdown))
    print(f"trainable params: {trainable:,}; multiply-adds: {total_macs / 1e9:.2f} G")
    print(f"builder options: {model.builder_options}")
    if model.weights_card is not None:
        print(model.weights_card.describe())


def main(argv=None):
    _environment.apply()  # before TensorFlow loads: its settings, a quiet import
    parser = argparse.ArgumentParser(
        prog="python -m keras_classics", description=__doc__.splitlines()[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("list", help="the registered models")
    p.add_argument("--family", help="only this family (alexnet, vgg, resnet, resnext, ...)")
    p.add_argument(
        "--counts",
        action="store_true",
        help="build each model to add trainable params and GMACs (slow)",
    )
    p.add_argument("--markdown", action="store_true", help="print a Markdown table")
    p.set_defaults(run=list_command)
    p = sub.add_parser("summary", help="stage-by-stage shapes, params and multiply-adds")
    p.add_argument("name", help="registry name, e.g. resnet50")
    p.add_argument("--input_size", type=int, help="square input size (default: the paper's)")
    p.add_argument(
        "--set",
        type=_parse_option,
        action="append",
        metavar="KEY=VALUE",
        help="builder option, e.g. --set shortcut=A --set downsample_at=3x3",
    )
    p.add_argument("--markdown", action="store_true", help="print a Markdown table")
    p.add_argument(
        "--weights", help="a weight card ('imagenet', 'torchvision:IMAGENET1K_V1') or a file"
    )
    p.set_defaults(run=summary_command)
    from keras_classics.pretrained import cli as weights_cli

    weights_cli.add_parser(sub)
    args = parser.parse_args(argv)
    from keras_classics.records.download import DownloadError

    try:
        return args.run(args) or 0
    except (ValueError, DownloadError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
