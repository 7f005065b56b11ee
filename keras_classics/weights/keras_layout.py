"""keras.applications weight files (.h5 of Keras 2 and 3) -> Keras variables: what every
family's keras.applications rows share.

The files key each variable "layer/variable" (weights/checkpoint.py reads them so); a layer of
ours takes the variables of the source layer of the same kind in order. Layers that
keras.applications leaves unnamed (its Inception nets: conv2d, conv2d_1, ...; the published
files, from Keras 2, start at conv2d_1 and count on from the layers made before in the same
session) are paired by creation order: `rank_auto_named` renames them "conv2d#k" by rank.
"""

import re

from keras_classics.records.input_config import InputConfig
from keras_classics.weights.conversion import Conversion, Take

SOURCE = "keras.applications"
# keras.applications' preprocess_input: "caffe" (BGR, mean pixel) for ResNet and VGG at 224,
# "tf" ([-1, 1]) for the Inception nets at 299; it documents no eval crop, so the papers'
# 0.875 centre crop with a bilinear resize.
CAFFE_224 = InputConfig("caffe", 224)
TF_299 = InputConfig("tf", 299)

# Keras' automatic layer names: the kind, then _1, _2 ... for each further layer of the kind.
_AUTO_NAMED = re.compile(r"(conv2d|batch_normalization)(?:_(\d+))?")


def variables(layer, source_layer):
    """The Takes of `layer`'s variables from the source layer's, in order."""
    return tuple(Take((f"{source_layer}/{variable.name}",)) for variable in layer.weights)


def _matrix(kernel):
    """A keras.applications 1x1 Conv2D kernel (1, 1, in, out) -> the (in, out) matrix."""
    return kernel.reshape(kernel.shape[-2:])


def squeeze_excite_takes(reduce_layer, expand_layer):
    """The Takes of a SqueezeExcite layer from keras.applications' two 1x1 Conv2D layers
    (its MobileNetV3 and EfficientNet squeeze-and-excitation)."""
    return tuple(
        Take((f"{layer}/{name}",), _matrix if name == "kernel" else None)
        for layer in (reduce_layer, expand_layer)
        for name in ("kernel", "bias")
    )


def rank_auto_named(state):
    """`state` with the automatically named layers renamed by creation order: the k-th conv2d
    (by the number Keras appended) becomes "conv2d#k", likewise "batch_normalization#k"."""
    found = {}
    for key in state:
        match = _AUTO_NAMED.fullmatch(key.split("/")[0])
        if match:
            found.setdefault(match[1], set()).add((int(match[2] or 0), match[0]))
    renamed = {
        layer: f"{kind}#{rank}"
        for kind, layers in found.items()
        for rank, (_, layer) in enumerate(sorted(layers))
    }
    return {
        "/".join((renamed.get(key.split("/")[0], key.split("/")[0]), *key.split("/")[1:])): value
        for key, value in state.items()
    }


def row(name, model, plan, head, input=CAFFE_224, **fields):  # noqa: A002
    """A `Conversion` row of keras.applications' builder `name` as our registry `model`."""
    return Conversion(
        source=SOURCE, name=name, model=model, plan=plan, input=input, head=head, **fields
    )
