"""Command line: convert a torchvision, timm or keras.applications checkpoint to Keras weights.

    python -m keras_classics.convert --source torchvision --model resnext50_32x4d \
        --checkpoint resnext50_32x4d-1a0047aa.pth --output resnext50_32x4d.weights.h5
    python -m keras_classics.convert --list

The output loads with the builder's weights= argument and records the model, its builder
options and the preprocessing the weights expect (keras_classics.convert.read_weights_info).
"""

import argparse
import sys

from keras_classics import _environment


def _sources():
    from keras_classics.convert import SOURCES

    return SOURCES


def list_command():
    from keras_classics.convert import get_conversion, list_convertible

    for source, names in list_convertible().items():
        for name in names:
            row = get_conversion(source, name)
            options = ", ".join(f"{k}={v!r}" for k, v in row.builder_kwargs.items())
            print(
                f"{source:20s} {name:20s} -> {row.model}"
                + (f" ({options})" if options else "")
                + f"; preprocessing {row.input.mode}"
            )


def convert_command(args):
    from keras_classics.convert import convert_file

    info = convert_file(
        args.source, args.model, args.checkpoint, args.output, **dict(args.set or [])
    )
    options = ", ".join(f"{k}={v!r}" for k, v in info.builder_kwargs.items())
    print(
        f"wrote {args.output}: {info.source} {info.source_model} -> keras_classics "
        f"{info.model!r} ({options or 'default options'})"
    )
    print(
        f"preprocessing: preprocess_input(x, {info.input.mode!r}); input "
        f"{info.input.size}x{info.input.size}, centre crop {info.input.crop_ratio}, "
        f"{info.input.interpolation} resize"
    )
    print(
        f"load: keras_classics.convert.load_converted({args.output!r}), or "
        f"keras_classics.get_model({info.model!r}"
        + "".join(f", {k}={v!r}" for k, v in info.builder_kwargs.items())
        + f", weights={args.output!r})"
    )


def main(argv=None):
    _environment.apply()  # before TensorFlow loads: its settings, a quiet import
    from keras_classics.__main__ import _parse_option

    parser = argparse.ArgumentParser(
        prog="python -m keras_classics.convert", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--list", action="store_true", help="the convertible models")
    parser.add_argument("--source", help="torchvision, timm or keras.applications")
    parser.add_argument("--model", help="the source library's model name, e.g. resnet50")
    parser.add_argument("--checkpoint", help=".pth/.pt/.bin, .safetensors or .h5 file")
    parser.add_argument("--output", help="the Keras weights file to write (*.weights.h5)")
    parser.add_argument(
        "--set",
        type=_parse_option,
        action="append",
        metavar="KEY=VALUE",
        help="builder option recorded with the weights, e.g. "
        "--set include_top=False (features only)",
    )
    args = parser.parse_args(argv)
    if args.list:
        list_command()
        return 0
    missing = [
        f"--{a}" for a in ("source", "model", "checkpoint", "output") if getattr(args, a) is None
    ]
    if missing:
        parser.error(f"{', '.join(missing)} required (or --list); sources: {_sources()}")
    try:
        convert_command(args)
    except (ValueError, TypeError, ImportError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
