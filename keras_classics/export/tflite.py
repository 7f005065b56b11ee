"""TFLite (LiteRT) export: float32, float16, dynamic-range and full-integer int8.

The TFLite model is the classifier without the image decoding: input float32 [N, S, S, 3]
(the model's preprocessed input: the eval crop and `preprocess_input`; int8: that input
quantised with the input tensor's scale and zero point), output `probabilities` [N, classes].
A JSON file beside it records the preprocessing and class names (`predict` reads it).

Only TFLite builtin ops are allowed (no SELECT_TF_OPS / Flex delegate): LRN converts to
LOCAL_RESPONSE_NORMALIZATION, GroupConv2D to SPLIT + CONV_2D + CONCATENATION; anything else
makes the conversion fail with the converter's message.

int8 is full-integer quantisation (supported_ops TFLITE_BUILTINS_INT8, int8 input and output):
every op with an int8 kernel runs in int8. TFLite has no int8 LOCAL_RESPONSE_NORMALIZATION, so
the converter keeps LRN (AlexNet, VGG-11-LRN, GoogLeNet) in float32 between builtin DEQUANTIZE
and QUANTIZE ops (measured with TF 2.21): still builtins only, but not integer-only hardware.
"""

import json
import os
import shutil
import tempfile

import numpy as np
import tensorflow as tf

from keras_classics.data import get_dataset
from keras_classics.export.saved_model import save_functions
from keras_classics.records import fileio

QUANTIZATIONS = ("none", "float16", "dynamic", "int8")
DEFAULT_CALIBRATION_STEPS = 200
FOLDER = "tflite"


def check_quantize(quantize):
    if quantize not in QUANTIZATIONS:
        raise ValueError(f"quantize={quantize!r} is invalid; accepted: {QUANTIZATIONS}.")


def representative_images(
    spec,
    image_size,
    source="fashion_mnist",
    data_dir=None,
    steps=DEFAULT_CALIBRATION_STEPS,
    label_offset=None,
    input_config=None,
):
    """Calibration images for int8: `steps` preprocessed images of the training split, through
    the training pipeline's own get_dataset with the evaluation crop (what inference sees),
    prepared as `input_config` says (default the spec's InputConfig).

    Returns a tf.data.Dataset of float32 [S, S, 3].
    """

    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps={steps!r} is invalid; accepted: a positive integer.")
    ds, _ = get_dataset(
        source,
        "train",
        model=spec,
        global_batch_size=1,
        training=False,
        image_size=image_size,
        data_dir=data_dir,
        label_offset=label_offset,
        seed=0,
        input_config=input_config,
        normalize=True,  # the converter calibrates the plain model: normalised floats
    )
    return ds.unbatch().map(lambda image, label: image).take(steps)


def _configure(converter, quantize, representative_data):
    ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quantize != "none":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantize == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if quantize == "int8":
        if representative_data is None:
            raise ValueError(
                "quantize='int8' needs representative_data; accepted: a "
                "tf.data.Dataset of preprocessed images [S, S, 3] "
                "(tflite.representative_images)."
            )

        def calibration():
            for image in representative_data:
                yield [tf.cast(image, tf.float32)[None]]

        converter.representative_dataset = calibration
        ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    converter.target_spec.supported_ops = ops


def convert(classifier, quantize="none", representative_data=None):
    """The .tflite bytes of `classifier` (signatures.Classifier).

    Raises ValueError when an op has no TFLite builtin (with the converter's message).
    """

    check_quantize(quantize)
    tmp = tempfile.mkdtemp(prefix=".tmp-tflite-")
    try:
        # Through a SavedModel: from_concrete_functions leaves Keras 3 variables as resource
        # variables (VAR_HANDLE ops, NaN outputs) instead of freezing them (TF 2.21).
        save_functions(
            {
                "classify": (
                    lambda x: {"probabilities": classifier.probabilities(x)},
                    classifier.model_input_signature(),
                )
            },
            tmp,
        )
        converter = tf.lite.TFLiteConverter.from_saved_model(tmp, signature_keys=["classify"])
        _configure(converter, quantize, representative_data)
        try:
            return converter.convert()
        except Exception as err:  # ConverterError and friends: name the model and mode
            raise ValueError(
                f"model {classifier.model.name!r} does not convert to TFLite builtin ops with "
                f"quantize={quantize!r} (SELECT_TF_OPS is not allowed): {err}"
            ) from err
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def op_names(model_content):
    """Op names of a .tflite model (bytes), in execution order."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=model_content)
    return [op["op_name"] for op in interpreter._get_ops_details()]


def check_builtin(model_content):
    """Raises ValueError when the model holds a Flex (SELECT_TF_OPS) or custom op."""
    odd = sorted({n for n in op_names(model_content) if n.startswith("Flex") or n.upper() != n})
    if odd:
        raise ValueError(f"TFLite model holds non-builtin ops {odd}; accepted: builtin ops only.")


def paths(output_dir, name, quantize):
    """(.tflite, .json) paths of an export: <output_dir>/<name>/tflite/<name>_<quantize>.*,
    outside the integer version folders TF Serving loads."""
    stem = os.path.join(output_dir, name, FOLDER, f"{name}_{quantize}")
    return stem + ".tflite", stem + ".json"


def write(classifier, output_dir, quantize="none", representative_data=None, name=None):
    """Converts `classifier` and writes its .tflite and .json (atomic); returns the .tflite
    path. A previous file of the same model and quantisation is replaced."""
    check_quantize(quantize)
    name = name or classifier.spec.name
    content = convert(classifier, quantize, representative_data)
    check_builtin(content)
    model_path, meta_path = paths(output_dir, name, quantize)
    with fileio.atomic_path(model_path, ".tflite") as tmp, open(tmp, "wb") as f:
        f.write(content)
    fileio.write_json(meta_path, {**classifier.metadata(), "quantize": quantize})
    return model_path


def read_metadata(model_path):
    """The JSON written beside a .tflite file by `write`."""
    meta_path = os.path.splitext(model_path)[0] + ".json"
    if not os.path.isfile(meta_path):
        raise ValueError(
            f"model_path={model_path!r} has no {os.path.basename(meta_path)!r} "
            "beside it; accepted: a .tflite file written by keras_classics.export "
            "(the JSON records its preprocessing and class names)."
        )
    with open(meta_path, encoding="utf-8") as f:
        return json.load(f)


class Runner:
    """A .tflite classifier on ai-edge-litert's interpreter (XNNPACK for float ops).

    Call it on preprocessed float32 images [N, S, S, 3]; it returns float32 probabilities
    [N, classes], quantising the input and dequantising the output of int8 models.
    """

    def __init__(self, model, num_threads=None):
        from ai_edge_litert.interpreter import Interpreter

        if isinstance(model, bytes):
            self.interpreter = Interpreter(model_content=model, num_threads=num_threads)
        else:
            self.interpreter = Interpreter(model_path=str(model), num_threads=num_threads)
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]
        self._batch = None

    def _resize(self, batch):
        if batch != self._batch:
            shape = [batch, *self.input["shape"][1:]]
            self.interpreter.resize_tensor_input(self.input["index"], shape)
            self.interpreter.allocate_tensors()
            self._batch = batch

    def __call__(self, images):
        x = np.asarray(images, np.float32)
        self._resize(x.shape[0])
        if self.input["dtype"] == np.int8:
            scale, zero = self.input["quantization"]
            x = np.clip(np.round(x / scale + zero), -128, 127).astype(np.int8)
        self.interpreter.set_tensor(self.input["index"], x)
        self.interpreter.invoke()
        y = self.interpreter.get_tensor(self.output["index"])
        if self.output["dtype"] == np.int8:
            scale, zero = self.output["quantization"]
            y = (y.astype(np.float32) - zero) * scale
        return y.astype(np.float32)
