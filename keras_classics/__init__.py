"""keras_classics: the classic ImageNet CNNs for Keras 3 on TensorFlow, faithful to their papers.

import keras_classics
model = keras_classics.ResNeXt50(weights=None)
model = keras_classics.ResNet50(weights="imagenet")  # downloaded, converted and cached once
model = keras_classics.get_model("vgg16_bn", classes=10)
"""

from keras_classics import layers
from keras_classics.imagenet import decode_predictions
from keras_classics.models import *  # noqa: F403  (the public builders)
from keras_classics.models import __all__ as _builders
from keras_classics.preprocessing import preprocess_input
from keras_classics.pretrained import get_weights, list_weights
from keras_classics.registry import ModelSpec, get_model, get_spec, list_models, register_model

# The one place the version is written: setup.cfg reads it (`attr:`) without importing the
# package, which needs it to stay a plain string literal. CHANGELOG.md lists the releases.
__version__ = "0.1.0"
__all__ = [
    *_builders,
    "ModelSpec",
    "decode_predictions",
    "get_model",
    "get_spec",
    "get_weights",
    "layers",
    "list_models",
    "list_weights",
    "preprocess_input",
    "register_model",
]
