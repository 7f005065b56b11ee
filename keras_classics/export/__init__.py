"""Export for TF Serving (SavedModel) and TFLite (LiteRT); docs/export.md has the commands.

    from keras_classics import export
    path = export.export_model(model, "resnet50")                # saved_models/resnet50/1
    path = export.export_model(model, "resnet50", format="tflite", quantize="float16")

Modules, one concept each: signatures (preprocessing + model + top-k graphs), saved_model (the
versioned, atomic SavedModel writer), graph_check (no PyFunc, no XLA), tflite (conversion and
quantisation), models_config (TF Serving's model_config_list). `python -m keras_classics.export`
is the command line.
"""

from keras_classics.export import graph_check, models_config, saved_model, signatures, tflite
from keras_classics.export.saved_model import next_version, versions
from keras_classics.export.signatures import Classifier
from keras_classics.export.tflite import QUANTIZATIONS

FORMATS = ("saved_model", "tflite")
DEFAULT_OUTPUT_DIR = "saved_models"


def check_options(format, quantize, version):  # noqa: A002
    """Refuses a format, quantize and version that do not go together."""
    if format not in FORMATS:
        raise ValueError(f"format={format!r} is invalid; accepted: {FORMATS}.")
    tflite.check_quantize(quantize)
    if format == "saved_model" and quantize != "none":
        raise ValueError(
            f"quantize={quantize!r} is invalid with format='saved_model'; "
            "accepted: 'none' (TF Serving runs the float32 graph), or "
            "format='tflite' to quantise."
        )
    if format == "tflite" and version is not None:
        raise ValueError(
            f"version={version!r} is invalid with format='tflite'; accepted: "
            "None (versions number the SavedModels TF Serving loads)."
        )


def export_model(
    model,
    spec,
    *,
    format="saved_model",  # noqa: A002 (keras.Model.export's name for it)
    quantize="none",
    output_dir=DEFAULT_OUTPUT_DIR,
    version=None,
    class_names=None,
    image_size=None,
    crop_ratio=None,
    representative_data=None,
    name=None,
    input_config=None,
):
    """Exports a Keras classifier; returns the SavedModel version folder or the .tflite path.

    Args:
      model: keras.Model ending in softmax or logits (auxiliary heads are dropped).
      spec: the model's ModelSpec or registry name (its name, and its InputConfig unless
        input_config).
      format: "saved_model" (<output_dir>/<name>/<version>/) or "tflite"
        (<output_dir>/<name>/tflite/<name>_<quantize>.tflite).
      quantize: TFLite only: "none", "float16", "dynamic" or "int8".
      version: SavedModel only: a version not yet exported; default the next free one.
      class_names: one per class; default ImageNet's names for 1000 classes.
      image_size, crop_ratio: the model's input side and eval crop (signatures.Classifier).
      representative_data: int8 only: tf.data.Dataset of preprocessed images
        (tflite.representative_images draws them from the training pipeline).
      name: folder and TF Serving model name; default the spec's name.
      input_config: the InputConfig the served images are prepared with; default spec.input
        (a converted weights file's WeightsInfo.input, a training run's DatasetInfo.input).
    """
    from keras_classics.registry import get_spec

    check_options(format, quantize, version)
    spec = get_spec(spec) if isinstance(spec, str) else spec
    classifier = Classifier(model, spec, class_names, image_size, crop_ratio, input_config)
    if format == "tflite":
        return tflite.write(classifier, output_dir, quantize, representative_data, name)
    return saved_model.write(classifier, output_dir, name=name, version=version)


def export_trained(
    model,
    spec,
    class_names=None,
    image_size=None,
    *,
    output_dir=DEFAULT_OUTPUT_DIR,
    version=None,
    crop_ratio=None,
    input_config=None,
):
    """train/main.py --export: the trained model as the next SavedModel version of its spec
    under output_dir (saved_models/<name>/<version>/), serving the run's input record
    (DatasetInfo.input); prints and returns the folder."""
    path = export_model(
        model,
        spec,
        output_dir=output_dir,
        version=version,
        class_names=class_names,
        image_size=image_size,
        crop_ratio=crop_ratio,
        input_config=input_config,
    )
    print(f"exported SavedModel: {path}")
    return path


__all__ = [
    "Classifier",
    "DEFAULT_OUTPUT_DIR",
    "FORMATS",
    "QUANTIZATIONS",
    "check_options",
    "export_model",
    "export_trained",
    "graph_check",
    "models_config",
    "next_version",
    "saved_model",
    "signatures",
    "tflite",
    "versions",
]
