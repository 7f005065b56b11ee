"""ONNX export through tf2onnx, run by onnxruntime.

Two graphs, as the user chooses (`preprocessing`):
- the bare model (default): input `input` float32 [N, S, S, 3], the model's preprocessed input
  (the eval crop and `preprocess_input`, as TFLite's), output `probabilities` [N, classes];
- with the evaluation preprocessing inside: input `images` float32 [N, H, W, 3], RGB in
  [0, 255] (rounded to integer pixels, as serving_default does), any H and W shared by the
  batch; the central crop_ratio square, resized to S x S bilinearly and normalised, then the
  model (a bicubic input record is refused: onnxruntime's cubic Resize does not downsample).

The model is converted once by tf2onnx (tf2onnx.convert.from_function on the Classifier's
traced probabilities, the function the SavedModel and TFLite exports share); the preprocessing
is converted on its own and joined in front of it with onnx.compose.merge_models, so the
second file costs no second conversion of the model (the conversion's time grows with the
weights: tf2onnx copies its graph proto, constants and all, at each of its optimiser passes).

A JSON file beside each .onnx records its preprocessing and class names, as TFLite's does.
The custom layers convert to standard ONNX ops: LocalResponseNormalization's TensorFlow LRN to
ONNX LRN (whose alpha divides by the window size, Caffe's convention: tf2onnx multiplies
TensorFlow's alpha by size, so both of the layer's alpha conventions carry over), GroupConv2D's
split + convolutions + concat to Split, Conv and Concat.
"""

import json
import os
import tempfile

import numpy as np
import tensorflow as tf

from keras_classics.data.train_preprocessing import center_window
from keras_classics.layers.normalization import normalize, pixels
from keras_classics.records import fileio

# ONNX opset 18 (ONNX 1.13): the newest tf2onnx 1.17 maps to an IR version; onnxruntime 1.32
# runs opsets up to 23.
OPSET = 18
FOLDER = "onnx"
MODEL_INPUT = "input"
PIXELS_INPUT = "images"
OUTPUT = "probabilities"
_PREFIX = "preprocessing/"  # merge_models' prefix for the preprocessing graph's names


def preprocess_batch(images, config):
    """Raw RGB float32 [N, H, W, 3] in [0, 255] -> the model's input [N, S, S, 3].

    keras_classics.data.eval_preprocess for a batch of one shape: the same window
    (center_window), resize and normalisation on the whole batch at once, since the images
    share H and W (the serving signatures map over images because encoded ones differ).
    """
    x = pixels(images)  # integer pixels, as the eval pipeline's decoded uint8 images
    y, x0, h, w = tf.unstack(center_window(tf.shape(x)[1:3], config.crop_ratio))
    # Cast first: TensorFlow's resize of uint8 computes and returns float32 (so this changes
    # nothing there), but tf2onnx gives ONNX's Resize the uint8 input, whose output would be
    # uint8 (rounded, and refused by the next float op).
    crop = tf.cast(x[:, y : y + h, x0 : x0 + w], tf.float32)
    x = tf.image.resize(crop, [config.size, config.size], method=config.interpolation)
    return normalize(x, config.mode)


def _convert(fn, signature):
    """The ONNX ModelProto of tf.function-able `fn` at `signature` (tf2onnx)."""
    import tf2onnx

    function = tf.function(fn, input_signature=signature, autograph=False)
    proto, _ = tf2onnx.convert.from_function(function, input_signature=signature, opset=OPSET)
    return proto


def convert_model(classifier):
    """The ONNX ModelProto of the bare model: `input` [N, S, S, 3] -> `probabilities`."""
    return _convert(lambda x: {OUTPUT: classifier.probabilities(x)}, _model_signature(classifier))


def convert_preprocessing(config):
    """The ONNX ModelProto of preprocess_batch for InputConfig `config`: `images` [N, H, W, 3]
    -> `input` [N, S, S, 3]."""
    signature = [tf.TensorSpec([None, None, None, 3], tf.float32, PIXELS_INPUT)]
    return _convert(lambda images: {MODEL_INPUT: preprocess_batch(images, config)}, signature)


def with_preprocessing(preprocessing, model):
    """The two ModelProtos joined: `images` -> preprocessing -> model -> `probabilities`."""
    import onnx.compose

    # Every name but the input's prefixed, so that none collides with the model's.
    preprocessing = onnx.compose.add_prefix(preprocessing, _PREFIX, rename_inputs=False)
    joined = onnx.compose.merge_models(
        preprocessing,
        model,
        io_map=[(_PREFIX + MODEL_INPUT, MODEL_INPUT)],
        producer_name=model.producer_name,
        producer_version=model.producer_version,
    )
    # onnx 1.23's merge_models checks the two opset lists against each other but then
    # writes both, one entry per model and domain; onnx.checker refuses the repeats.
    imports = {o.domain: o.version for o in joined.opset_import}
    del joined.opset_import[:]
    joined.opset_import.extend(onnx.helper.make_opsetid(d, v) for d, v in imports.items())
    return joined


def _model_signature(classifier):
    size = classifier.image_size
    return [tf.TensorSpec([None, size, size, 3], tf.float32, MODEL_INPUT)]


def convert(classifier, preprocessing=False, model_proto=None):
    """The serialised ONNX model of `classifier` (signatures.Classifier); with the evaluation
    preprocessing inside when `preprocessing` (module doc). `model_proto`: the bare model's
    ModelProto when it is already converted (convert_model), so that both files of one
    classifier cost one conversion.

    Raises ValueError when tf2onnx cannot convert an op (with its message).
    """
    check_preprocessing(preprocessing, classifier.input)
    try:
        proto = convert_model(classifier) if model_proto is None else model_proto
        if preprocessing:
            proto = with_preprocessing(convert_preprocessing(classifier.input), proto)
    except Exception as err:  # tf2onnx raises ValueError, RuntimeError and its own
        raise ValueError(
            f"model {classifier.model.name!r} does not convert to ONNX opset {OPSET} "
            f"with preprocessing={preprocessing!r}: {err}"
        ) from err
    check(proto)
    return proto.SerializeToString()


def check_preprocessing(preprocessing, config=None):
    """Refuses a `preprocessing` that is not a bool, or True with InputConfig `config`'s
    bicubic resize: onnxruntime 1.32's CPU Resize runs mode "cubic" on 4-D inputs only when
    upsampling ("ScalesValidation"), and the eval crop shrinks a photo."""
    if not isinstance(preprocessing, bool):
        raise ValueError(
            f"preprocessing={preprocessing!r} is invalid; accepted: True (the evaluation "
            "preprocessing inside, raw pixels in) or False (preprocessed input in)."
        )
    if preprocessing and config is not None and config.interpolation == "bicubic":
        raise ValueError(
            "preprocessing=True is invalid with interpolation='bicubic' (onnxruntime's cubic "
            "Resize does not downsample); accepted: preprocessing=False, the bicubic eval crop "
            "done before the model (keras_classics.data.eval_preprocess)."
        )


def check(proto):
    """onnx.checker on the model (opset, types, graph), with our opset; raises ValueError."""
    import onnx

    if opset_of(proto) != OPSET:
        raise ValueError(f"ONNX model has opset {opset_of(proto)}; accepted: {OPSET}.")
    try:
        onnx.checker.check_model(proto, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as err:
        raise ValueError(f"ONNX model fails onnx.checker: {err}") from err


def opset_of(model):
    """The default-domain ("ai.onnx") opset a ModelProto, .onnx bytes or path imports."""
    import onnx

    if isinstance(model, bytes):
        model = onnx.load_from_string(model)
    elif not isinstance(model, onnx.ModelProto):
        model = onnx.load(str(model))
    [version] = [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")]
    return version


def paths(output_dir, name, preprocessing=False):
    """(.onnx, .json) paths of an export: <output_dir>/<name>/onnx/<name>.onnx, and
    <name>_preprocessing.onnx for the one with preprocessing inside; outside the integer
    version folders TF Serving loads."""
    suffix = "_preprocessing" if preprocessing else ""
    stem = os.path.join(output_dir, name, FOLDER, name + suffix)
    return stem + ".onnx", stem + ".json"


def check_new(model_path):
    if os.path.exists(model_path):
        raise ValueError(
            f"ONNX export {model_path!r} already exists; accepted: an output_dir or name "
            "not yet exported (exports are never overwritten: delete it to export again)."
        )


def write(classifier, output_dir, preprocessing=False, name=None):
    """Converts `classifier` and writes its .onnx and .json; returns the .onnx path.

    An existing export is refused (ValueError), checked before the conversion and again at
    the end: the file appears by a hard link of a finished temporary file, which fails if
    another export has taken the name meanwhile, so it is never overwritten nor half-written.
    """
    check_preprocessing(preprocessing, classifier.input)
    name = name or classifier.spec.name
    model_path, meta_path = paths(output_dir, name, preprocessing)
    check_new(model_path)
    content = convert(classifier, preprocessing)
    meta = {
        **classifier.metadata(),
        "format": "onnx",
        "opset": OPSET,
        "input": PIXELS_INPUT if preprocessing else MODEL_INPUT,
        "preprocessing_inside": preprocessing,
    }
    os.makedirs(os.path.dirname(model_path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".onnx", dir=os.path.dirname(model_path))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(content)
        os.chmod(tmp, 0o644)  # mkstemp's 0o600 would hide the model from a server user
        try:
            os.link(tmp, model_path)  # no-clobber: fails if another export took the name
        except FileExistsError:
            check_new(model_path)
            raise
    finally:
        os.remove(tmp)
    fileio.write_json(meta_path, meta)
    return model_path


def read_metadata(model_path):
    """The JSON written beside a .onnx file by `write`."""
    meta_path = os.path.splitext(model_path)[0] + ".json"
    if not os.path.isfile(meta_path):
        raise ValueError(
            f"model_path={model_path!r} has no {os.path.basename(meta_path)!r} beside it; "
            "accepted: a .onnx file written by keras_classics.export."
        )
    with open(meta_path, encoding="utf-8") as f:
        return json.load(f)


class Runner:
    """An .onnx classifier on onnxruntime's CPU execution provider.

    Call it on float32 images [N, ...] (preprocessed, or raw pixels for a model with the
    preprocessing inside); it returns float32 probabilities [N, classes].
    """

    def __init__(self, model, num_threads=None):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        if num_threads is not None:
            options.intra_op_num_threads = num_threads
        source = model if isinstance(model, bytes) else str(model)
        self.session = onnxruntime.InferenceSession(
            source, options, providers=["CPUExecutionProvider"]
        )
        [self.input] = self.session.get_inputs()

    def __call__(self, images):
        x = np.asarray(images, np.float32)
        return self.session.run([OUTPUT], {self.input.name: x})[0]
