"""keras_classics: the classic ImageNet CNNs for Keras 3 on TensorFlow, faithful to their papers.

import keras_classics
model = keras_classics.ResNeXt50(weights=None)
model = keras_classics.ResNet50(weights="imagenet")  # downloaded, converted and cached once
model = keras_classics.get_model("vgg16_bn", classes=10)

The package face is lazy (PEP 562): `import keras_classics` imports no TensorFlow; a public
name loads its module when it is first asked for. So the command lines
(keras_classics/_environment.py) can set TensorFlow's environment before it loads.
"""

import importlib
import importlib.util

from keras_classics.records import lazy as _lazy
from keras_classics.records.version import __version__ as __version__

# Public name -> the module that holds it (a module's own name: the module itself). The
# builders, feature_info, FeatureInfo, inference_model and the registry's and weight cards'
# lookups (get_model, list_weights ...) are every name of MODELS' __all__: they are answered
# once every family is registered.
_FACE = {
    "decode_predictions": "keras_classics.records.imagenet",
    "layers": "keras_classics.layers",
    "preprocess_input": "keras_classics.layers.normalization",
}
_MODELS = "keras_classics.models"


def _public_names():
    return [*importlib.import_module(_MODELS).__all__, *_FACE]


def __getattr__(name):
    if name == "__all__":  # `from keras_classics import *` asks for it: the models load
        return _public_names()
    if name in _FACE:
        return _lazy.attribute(__name__, _FACE, name)
    if not name.startswith("_"):
        if importlib.util.find_spec(f"{__name__}.{name}") is not None:
            # A subpackage asked for as an attribute (keras_classics.data), as the eager face
            # of 0.1.0 had imported most of them.
            return importlib.import_module(f"{__name__}.{name}")
        models = importlib.import_module(_MODELS)
        if name in models.__all__:
            return getattr(models, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *_public_names()})
