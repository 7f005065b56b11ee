"""python -m keras_classics.export --model NAME [--weights PATH] [--format saved_model|tflite|onnx]

    python -m keras_classics.export --model resnet50 --weights resnet50.weights.h5
    python -m keras_classics.export --model resnet18 --weights runs/resnet18/best.weights.h5 \
        --classes 10 --image_size 32 --crop_ratio 1 --format tflite --quantize int8
    python -m keras_classics.export --model resnet50 --format onnx --preprocessing

A .weights.h5 file (what train/main.py writes) needs the architecture it was trained with:
--classes (or --class_names, one name a line) and --image_size; a .keras file carries them.
A converted weights file (python -m keras_classics.convert) records its builder options and
the preprocessing, input size and crop of its source: the export uses them.
"""

import argparse
import os
import sys

from keras_classics import _environment


def read_class_names(path):
    if not os.path.isfile(path):
        raise ValueError(
            f"class_names={path!r} does not exist; accepted: a text file with "
            "one class name a line."
        )
    with open(path, encoding="utf-8") as f:
        names = [line.strip() for line in f if line.strip()]
    if not names:
        raise ValueError(f"class_names={path!r} holds no names; accepted: one a line.")
    return names


def converted(spec, weights):
    """The WeightsInfo of a converted weights file (None for any other file), checked against
    --model: its `input` is the source's InputConfig (preprocessing, size, crop)."""
    if weights is None or not weights.endswith(".weights.h5") or not os.path.isfile(weights):
        return None  # a missing file is refused by load_model, naming what is accepted
    from keras_classics.convert import read_weights_info

    info = read_weights_info(weights)
    if info is not None and info.model != spec.name:
        raise ValueError(
            f"weights={weights!r} were converted for {info.model!r} (from "
            f"{info.source} {info.source_model}), not model={spec.name!r}; "
            f"accepted: --model {info.model}."
        )
    return info


def load_model(spec, weights, classes, image_size, info=None):
    """The model to export: a .keras file as saved, a converted weights file with its
    recorded builder options, else the registry builder with the weights file (None: random
    weights, for trying the export path)."""
    import keras

    if weights is not None and not os.path.isfile(weights):
        raise ValueError(
            f"weights={weights!r} does not exist; accepted: the path to a "
            ".weights.h5 or .keras file of this architecture."
        )
    if info is not None:
        size = image_size or info.input.size
        return info.build(
            weights=weights,
            input_shape=(size, size, 3),
            **({"classes": classes} if classes else {}),
        )
    if weights is not None and weights.endswith(".keras"):
        if classes is not None or image_size is not None:
            raise ValueError(
                "--classes and --image_size conflict with a .keras file, which "
                "holds its own architecture; accepted: neither."
            )
        return keras.saving.load_model(weights)
    from keras_classics.models._core import load_weights

    size = image_size or spec.input.size
    model = spec.build(classes=classes or spec.classes, input_shape=(size, size, 3))
    if weights is not None:
        # Strict: the builders' weights= would leave a classifier for other classes random
        # (fine-tuning); an export of it would serve random predictions.
        load_weights(model, weights, new_heads=False)
    return model


def run(args):
    import keras_classics
    from keras_classics import export

    spec = keras_classics.get_spec(args.model)
    info = converted(spec, args.weights)
    input_config = info.input if info is not None else spec.input
    # Every refusal before the (slow) model build.
    export.check_options(args.format, args.quantize, args.version, args.preprocessing)
    if args.version is not None:
        export.saved_model.check_version(args.version, os.path.join(args.output_dir, spec.name))
    if args.format == "onnx":
        export.onnx.check_preprocessing(args.preprocessing, input_config)
        export.onnx.check_new(export.onnx.paths(args.output_dir, spec.name, args.preprocessing)[0])
    class_names = read_class_names(args.class_names) if args.class_names else None
    if class_names is not None and args.classes not in (None, len(class_names)):
        raise ValueError(
            f"classes={args.classes} conflicts with the {len(class_names)} names "
            f"in {args.class_names!r}; accepted: one name per class."
        )
    classes = args.classes or (len(class_names) if class_names else None)
    model = load_model(spec, args.weights, classes, args.image_size, info)
    representative = None
    if args.format == "tflite" and args.quantize == "int8":
        size = int(model.inputs[0].shape[1] or args.image_size or input_config.size)
        representative = export.tflite.representative_images(
            spec,
            size,
            args.dataset,
            args.data_dir,
            args.calibration_steps,
            args.label_offset,
            input_config=input_config,
        )
    path = export.export_model(
        model,
        spec,
        format=args.format,
        quantize=args.quantize,
        output_dir=args.output_dir,
        version=args.version,
        class_names=class_names,
        image_size=args.image_size,
        crop_ratio=args.crop_ratio,
        representative_data=representative,
        input_config=input_config,
        preprocessing=args.preprocessing,
    )
    print(path)


def main(argv=None):
    _environment.apply()  # before TensorFlow loads: its settings, a quiet import
    from keras_classics.export import DEFAULT_OUTPUT_DIR, FORMATS, QUANTIZATIONS
    from keras_classics.export.tflite import DEFAULT_CALIBRATION_STEPS

    parser = argparse.ArgumentParser(
        prog="python -m keras_classics.export",
        description="Export a keras_classics model for TF Serving (SavedModel), TFLite or ONNX.",
    )
    parser.add_argument("--model", required=True, help="registry name, e.g. resnet50")
    parser.add_argument("--weights", help=".weights.h5 or .keras file (default: random weights)")
    parser.add_argument(
        "--output_dir",
        default=DEFAULT_OUTPUT_DIR,
        help="SavedModels in OUTPUT_DIR/NAME/VERSION, TFLite files in "
        "OUTPUT_DIR/NAME/tflite, ONNX files in OUTPUT_DIR/NAME/onnx (default: %(default)s)",
    )
    parser.add_argument("--version", type=int, help="SavedModel version (default: next free)")
    parser.add_argument("--format", default="saved_model", help=f"one of {FORMATS}")
    parser.add_argument("--quantize", default="none", help=f"TFLite: one of {QUANTIZATIONS}")
    parser.add_argument(
        "--preprocessing",
        action="store_true",
        help="ONNX: the evaluation preprocessing inside (raw RGB pixels in, any size)",
    )
    parser.add_argument(
        "--classes",
        type=int,
        help="classes of the weights (default: the model's, 1000 for ImageNet)",
    )
    parser.add_argument(
        "--class_names",
        help="text file, one class name a line (default: ImageNet's names for 1000 classes)",
    )
    parser.add_argument("--image_size", type=int, help="input side (default: the model's)")
    parser.add_argument(
        "--crop_ratio",
        type=float,
        help="eval centre crop (default: the model's; 1 for Fashion-MNIST runs)",
    )
    parser.add_argument(
        "--dataset",
        default="fashion_mnist",
        help="int8 calibration data: get_dataset source (default: "
        "%(default)s; imagenet with --data_dir for ImageNet weights)",
    )
    parser.add_argument("--data_dir", help="directory of --dataset")
    parser.add_argument("--label_offset", type=int, help="as train/main.py --label_offset")
    parser.add_argument(
        "--calibration_steps",
        type=int,
        default=DEFAULT_CALIBRATION_STEPS,
        help="int8 calibration images (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    try:
        run(args)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
