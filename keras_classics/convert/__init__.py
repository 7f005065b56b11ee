"""Pretrained weights by conversion from torchvision, timm and keras.applications checkpoints.

    from keras_classics import convert
    model = convert.from_torchvision("resnext50_32x4d", "resnext50_32x4d-1a0047aa.pth")
    convert.convert_file("torchvision", "resnext50_32x4d", "ckpt.pth", "rx50.weights.h5")
    info = convert.read_weights_info("rx50.weights.h5")   # model, options, preprocessing
    model = info.build(weights="rx50.weights.h5")

Each family module registers its rows (source name -> our registry model, its options, the
name map, the preprocessing); keras_classics/weights/conversion.py reads, validates and
assigns, weights/checkpoint.py reads files. This package is their user-facing side: convert a
checkpoint by source and name, write and read converted files. See docs/convert.md.
"""

from keras_classics.records import lazy as _lazy

# The package is lazy (PEP 562): `python -m keras_classics.convert` imports it before its
# __main__, which sets TensorFlow's environment (keras_classics/_environment.py) before
# TensorFlow loads. Public name -> the module that holds it.
_NAMES = {
    "Conversion": "keras_classics.weights.conversion",
    "SOURCES": "keras_classics.weights.conversion",
    "WeightsInfo": "keras_classics.weights.conversion",
    "convert": "keras_classics.convert.api",
    "convert_file": "keras_classics.convert.api",
    "conversions": "keras_classics.weights.conversion",
    "from_keras_applications": "keras_classics.convert.api",
    "from_timm": "keras_classics.convert.api",
    "from_torchvision": "keras_classics.convert.api",
    "get_conversion": "keras_classics.convert.api",
    "list_convertible": "keras_classics.convert.api",
    "load_converted": "keras_classics.convert.api",
    "read_checkpoint": "keras_classics.weights.checkpoint",
    "read_weights_info": "keras_classics.weights.conversion",
}
__all__ = sorted(_NAMES)


def __getattr__(name):
    return _lazy.attribute(__name__, _NAMES, name)


def __dir__():
    return __all__
