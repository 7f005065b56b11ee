"""keras_classics: the classic ImageNet CNNs for Keras 3 on TensorFlow, faithful to their papers.

import keras_classics
model = keras_classics.ResNeXt50(weights=None)
model = keras_classics.ResNet50(weights="imagenet")  # downloaded, converted and cached once
model = keras_classics.get_model("vgg16_bn", classes=10)
"""

from keras_classics import layers
from keras_classics.layers.normalization import preprocess_input
from keras_classics.models import *  # noqa: F403  (the public builders)
from keras_classics.models import __all__ as _builders
from keras_classics.records.imagenet import decode_predictions
from keras_classics.records.version import __version__ as __version__

__all__ = [
    *_builders,
    "decode_predictions",
    "layers",
    "preprocess_input",
]
