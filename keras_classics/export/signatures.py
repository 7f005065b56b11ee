"""Serving signatures: eval preprocessing, model, softmax and top-k inside one graph.

As in TF Model Garden's serving modules, the graph reuses the evaluation preprocessing
(keras_classics.data.eval_preprocessing) instead of re-implementing it, so a client sends raw
pixels or image files and gets the prediction the evaluation pipeline would have made:

- serving_default: `images` float32 [N, H, W, 3], RGB in [0, 255], any H and W. Values are
  rounded to integers first: the evaluation pipeline works on decoded uint8 pixels, and a
  client's pixels are integers anyway.
- serving_bytes: `image_bytes` string [N] of encoded JPEG or PNG (GIF, BMP also decode), the
  tensor TF Serving's REST API fills from {"b64": ...}. The name ends in "_bytes", the
  convention Google Cloud's prediction service uses to decode base64.

Both return `probabilities` [N, classes] float32, `top_k_classes` [N, k] int32, `top_k_scores`
[N, k] float32 and `top_k_names` [N, k] string (k = min(5, classes)).
"""

import keras
import tensorflow as tf

from keras_classics.data import decoders, eval_preprocessing
from keras_classics.layers.ws_conv import fold_standardized_kernels
from keras_classics.models._core import inference_model
from keras_classics.records import imagenet
from keras_classics.records import input_config as input_records
from keras_classics.records.input_config import InputConfig

TOP_K = 5
IMAGES = "images"
IMAGE_BYTES = "image_bytes"
SIGNATURES = {"serving_default": IMAGES, "serving_bytes": IMAGE_BYTES}
OUTPUTS = ("probabilities", "top_k_classes", "top_k_scores", "top_k_names")


def classifier_layer(model):
    """The layer whose output is the model's scores: "predictions" (every builder's name for
    its classifier), else the last layer."""
    try:
        return model.get_layer("predictions")
    except ValueError:
        return model.layers[-1]


def outputs_probabilities(model):
    """True when `model` ends in a softmax, False when it ends in logits (no activation).

    The training program builds its models with classifier_activation=None; the export then
    applies the softmax itself. Any other final activation is refused: a sigmoid or ReLU
    output is not a distribution the top-k outputs could be read from.
    """
    layer = classifier_layer(model)
    if isinstance(layer, keras.layers.Softmax):
        return True
    activation = getattr(layer, "activation", None)
    name = getattr(activation, "__name__", None)
    if name in ("softmax", "linear"):
        return name == "softmax"
    raise ValueError(
        f"model={model.name!r} ends in layer {layer.name!r} with activation={name!r}; "
        "accepted: a classifier whose last layer ('predictions') has activation 'softmax' "
        "or none (logits; the export applies the softmax)."
    )


def class_names_for(num_classes, class_names=None):
    """The names `top_k_names` reports: `class_names`, else ImageNet's for 1000 classes, else
    the class indices as strings."""
    if class_names is not None:
        names = [str(n) for n in class_names]
        if len(names) != num_classes:
            raise ValueError(
                f"class_names has {len(names)} names; accepted: one per class of "
                f"the model ({num_classes})."
            )
        return names
    if num_classes == len(imagenet.class_index()):
        return [name for _, name in imagenet.class_index()]
    return [str(i) for i in range(num_classes)]


class Classifier:
    """A Keras classifier with what serving needs: its spec, input record and class names.

    Args:
      model: keras.Model with one [N, classes] output (auxiliary heads are dropped).
      spec: the model's ModelSpec (its name, and its InputConfig unless `input_config`).
      class_names: one name per class; default ImageNet's names for 1000 classes.
      image_size: the model's input side; default the model's fixed input size, else the
        input record's size.
      crop_ratio: eval centre-crop fraction; default the input record's (1.0 for models
        trained on whole frames, like the Fashion-MNIST pipeline's).
      input_config: the InputConfig the served images are prepared with (mode, size, crop,
        interpolation); default spec.input. A converted weights file's WeightsInfo.input
        goes here (its source's preprocessing), and a training run's DatasetInfo.input.
    """

    def __init__(
        self, model, spec, class_names=None, image_size=None, crop_ratio=None, input_config=None
    ):
        if not isinstance(model, keras.Model):
            raise TypeError(f"model={model!r} is invalid; accepted: a keras.Model.")
        # Weight-standardised kernels folded to plain ones: the exported graphs hold W', not its
        # per-kernel mean and variance (the same outputs).
        model = fold_standardized_kernels(inference_model(model))
        if len(model.inputs) != 1 or tuple(model.inputs[0].shape[-1:]) != (3,):
            raise ValueError(
                f"model={model.name!r} takes inputs "
                f"{[tuple(i.shape) for i in model.inputs]}; accepted: one RGB "
                "image input [batch, height, width, 3]."
            )
        shape = tuple(model.outputs[0].shape)
        if len(shape) != 2:
            raise ValueError(
                f"model={model.name!r} outputs shape {shape}; accepted: a "
                "classifier with outputs [batch, classes] (include_top=True, or "
                "pooling plus a 'predictions' layer)."
            )
        self.model = model
        self.spec = spec
        self.num_classes = int(shape[1])
        self.class_names = class_names_for(self.num_classes, class_names)
        config = spec.input if input_config is None else input_config
        if not isinstance(config, InputConfig):
            raise TypeError(
                f"input_config={input_config!r} is invalid; accepted: an "
                "InputConfig or None (the spec's)."
            )
        # Module-qualified: this method's `input_config` argument shadows the function.
        self.input = input_records.input_config(
            config,
            self._image_size(image_size, config.size),
            None if crop_ratio is None else float(crop_ratio),
        )
        self.applies_softmax = not outputs_probabilities(model)
        self.top_k = min(TOP_K, self.num_classes)
        self._probabilities_fn = None

    @property
    def image_size(self):
        return self.input.size

    @property
    def crop_ratio(self):
        return self.input.crop_ratio

    def _image_size(self, image_size, default):
        fixed = tuple(self.model.inputs[0].shape[1:3])
        if image_size is not None and (
            isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 1
        ):
            raise ValueError(f"image_size={image_size!r} is invalid; accepted: a positive integer.")
        if None not in fixed:
            if fixed[0] != fixed[1] or image_size not in (None, fixed[0]):
                raise ValueError(
                    f"image_size={image_size!r} does not match the model's input "
                    f"{fixed[0]}x{fixed[1]}; accepted: None or {fixed[0]} (a "
                    "square input)."
                )
            return int(fixed[0])
        return image_size or default

    def metadata(self):
        """What the export records beside the graph (JSON-serialisable)."""
        return {
            "model": self.spec.name,
            "keras_name": self.model.name,
            "image_size": self.image_size,
            "crop_ratio": self.crop_ratio,
            "preprocessing": self.input.mode,
            "interpolation": self.input.interpolation,
            "num_classes": self.num_classes,
            "class_names": self.class_names,
            "top_k": self.top_k,
            "model_outputs": "logits" if self.applies_softmax else "probabilities",
        }

    # -- graph pieces ---------------------------------------------------------------------

    def _probabilities(self, x):
        # Functional models built from get_source_inputs take their input as a list.
        inputs = [x] if isinstance(self.model.input, (list, tuple)) else x
        y = tf.cast(self.model(inputs, training=False), tf.float32)
        return tf.nn.softmax(y, axis=-1) if self.applies_softmax else y

    @property
    def probabilities(self):
        """Preprocessed batch [N, S, S, 3] -> float32 probabilities [N, classes].

        One tf.function, traced once: both serving signatures and the TFLite export call it,
        so the model's graph is built (and stored in the SavedModel) once, not per signature.
        """
        if self._probabilities_fn is None:
            self._probabilities_fn = tf.function(
                self._probabilities, input_signature=self.model_input_signature(), autograph=False
            )
        return self._probabilities_fn

    def outputs(self, x):
        # An empty request gets empty outputs without running the model: with oneDNN on
        # (TF_ENABLE_ONEDNN_OPTS=1, TF 2.21) convolutions fail on a batch of 0 ("Incompatible
        # shapes"), and the server's setting is not ours to choose.
        probabilities = tf.cond(
            tf.shape(x)[0] > 0,
            lambda: self.probabilities(x),
            lambda: tf.zeros([0, self.num_classes], tf.float32),
        )
        scores, classes = tf.math.top_k(probabilities, k=self.top_k)
        names = tf.gather(tf.constant(self.class_names), classes)
        return {
            "probabilities": probabilities,
            "top_k_classes": tf.cast(classes, tf.int32),
            "top_k_scores": scores,
            "top_k_names": names,
        }

    def _preprocess_each(self, images, fn):
        size = self.image_size
        return tf.map_fn(fn, images, fn_output_signature=tf.TensorSpec([size, size, 3], tf.float32))

    def serving_default(self, images):
        """float32 RGB [N, H, W, 3] in [0, 255] -> outputs dict (module doc)."""
        pixels = tf.saturate_cast(tf.round(images), tf.uint8)
        x = self._preprocess_each(
            pixels, lambda image: eval_preprocessing.eval_preprocess(image, self.input)
        )
        return self.outputs(x)

    def serving_bytes(self, image_bytes):
        """Encoded images string [N] -> outputs dict; bad bytes raise InvalidArgument."""

        def one(data):
            code, detail = decoders.check_encoded(data)
            # An Assert fails the request with InvalidArgument naming the reason, before a
            # decoder op reports a less telling error (e.g. a truncated JPEG).
            check = tf.debugging.Assert(
                tf.equal(code, 0), ["serving_bytes: bad image_bytes:", detail]
            )
            with tf.control_dependencies([check]):
                data = tf.identity(data)
            return eval_preprocessing.eval_preprocess_jpeg(data, self.input)

        return self.outputs(self._preprocess_each(image_bytes, one))

    def input_signatures(self):
        """{signature name: [TensorSpec]}, the order the archive adds them in."""
        return {
            "serving_default": [tf.TensorSpec([None, None, None, 3], tf.float32, IMAGES)],
            "serving_bytes": [tf.TensorSpec([None], tf.string, IMAGE_BYTES)],
        }

    def model_input_signature(self):
        """The preprocessed batch the bare model takes (TFLite's input)."""
        size = self.image_size
        return [tf.TensorSpec([None, size, size, 3], tf.float32, "input")]
