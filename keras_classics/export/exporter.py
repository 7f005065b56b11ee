"""The export's entry points: the options that go together, and the writer of each format."""

from keras_classics.export import onnx, saved_model, tflite
from keras_classics.export.signatures import Classifier
from keras_classics.models import get_spec

FORMATS = ("saved_model", "tflite", "onnx")
DEFAULT_OUTPUT_DIR = "saved_models"


def check_options(format, quantize, version, preprocessing=False):  # noqa: A002
    """Refuses a format, quantize, version and preprocessing that do not go together."""
    if format not in FORMATS:
        raise ValueError(f"format={format!r} is invalid; accepted: {FORMATS}.")
    tflite.check_quantize(quantize)
    onnx.check_preprocessing(preprocessing)
    if format == "onnx" and quantize != "none":
        raise ValueError(
            f"quantize={quantize!r} is invalid with format='onnx'; accepted: 'none' (the "
            "float32 graph), or format='tflite' to quantise."
        )
    if format == "onnx" and version is not None:
        raise ValueError(
            f"version={version!r} is invalid with format='onnx'; accepted: None "
            "(versions number the SavedModels TF Serving loads)."
        )
    if format != "onnx" and preprocessing:
        raise ValueError(
            f"preprocessing=True is invalid with format={format!r}; accepted: "
            "format='onnx' (a SavedModel always has the preprocessing inside, a TFLite "
            "model never)."
        )
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
    preprocessing=False,
):
    """Exports a Keras classifier; returns the SavedModel version folder, the .tflite or the
    .onnx path.

    Args:
      model: keras.Model ending in softmax or logits (auxiliary heads are dropped).
      spec: the model's ModelSpec or registry name (its name, and its InputConfig unless
        input_config).
      format: "saved_model" (<output_dir>/<name>/<version>/), "tflite"
        (<output_dir>/<name>/tflite/<name>_<quantize>.tflite) or "onnx"
        (<output_dir>/<name>/onnx/<name>[_preprocessing].onnx; never overwritten).
      quantize: TFLite only: "none", "float16", "dynamic" or "int8".
      version: SavedModel only: a version not yet exported; default the next free one.
      class_names: one per class; default ImageNet's names for 1000 classes.
      image_size, crop_ratio: the model's input side and eval crop (signatures.Classifier).
      representative_data: int8 only: tf.data.Dataset of preprocessed images
        (tflite.representative_images draws them from the training pipeline).
      name: folder and TF Serving model name; default the spec's name.
      input_config: the InputConfig the served images are prepared with; default spec.input
        (a converted weights file's WeightsInfo.input, a training run's DatasetInfo.input).
      preprocessing: ONNX only: the evaluation preprocessing inside (raw RGB pixels in).
    """

    check_options(format, quantize, version, preprocessing)
    spec = get_spec(spec) if isinstance(spec, str) else spec
    classifier = Classifier(model, spec, class_names, image_size, crop_ratio, input_config)
    if format == "onnx":
        return onnx.write(classifier, output_dir, preprocessing, name)
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
