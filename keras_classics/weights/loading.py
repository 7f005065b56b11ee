"""Loading stored weights into a model by layer name, as timm's load_pretrained does.

Both `weights=` paths go through here: a weight card's converted file and a weights file of
the same architecture (model.save_weights, train/main.py's best.weights.h5, a .keras file). By
name rather than Keras' load_weights, so that one file serves every model of the architecture:
- another head: a classifier ("...predictions") or auxiliary head ("aux...") whose shape differs
  or that the file lacks stays randomly initialised, and is logged (fine-tuning on new classes);
- a part of the body: include_top=False and features_only=True models load what they have;
- other input channels: the first convolution's kernel is adapted as timm's adapt_input_conv
  (timm/models/_manipulate.py) adapts it: one channel takes the sum over RGB; c > 3 channels
  take RGB repeated to c and scaled by 3/c, so that an image repeated over the channels gives
  the 3-channel model's output (adapt_input_conv below).
Anything else that does not fit (another architecture or its options) is a ValueError.
"""

import logging
import math
import os
import tempfile
import zipfile

import numpy as np

from keras_classics.weights.checkpoint import read_checkpoint

logger = logging.getLogger(__name__)


def stored_layers(path):
    """{layer name: [arrays]} of a Keras weights file (.weights.h5, .h5, or the weights inside
    a .keras archive), each layer's variables in order (as weights/checkpoint.py reads Keras 3
    files: "layer/variable" in the file's order)."""
    path = os.fspath(path)
    if path.lower().endswith(".keras"):
        with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(path) as archive:
            if "model.weights.h5" not in archive.namelist():
                raise ValueError(f"weights={path!r} is a .keras file without model.weights.h5.")
            return stored_layers(archive.extract("model.weights.h5", tmp))
    stored = {}
    for key, array in read_checkpoint(path).items():
        stored.setdefault(key.rsplit("/", 1)[0], []).append(array)
    return stored


def adapt_input_conv(kernel, channels):
    """A first convolution's Keras kernel (kh, kw, 3, filters) for `channels` input channels,
    as timm's adapt_input_conv (which works on PyTorch's (filters, 3, kh, kw)): the sum over
    RGB for one channel; RGB repeated ceil(c/3) times, cut to c and scaled by 3/c otherwise."""
    kernel = np.asarray(kernel, np.float32)
    if kernel.ndim != 4 or kernel.shape[2] != 3:
        raise ValueError(
            f"kernel of shape {kernel.shape} cannot be adapted; accepted: a first "
            "convolution's (height, width, 3, filters) kernel."
        )
    if channels == 3:
        return kernel
    if channels == 1:
        return kernel.sum(axis=2, keepdims=True)
    repeated = np.tile(kernel, (1, 1, math.ceil(channels / 3), 1))[:, :, :channels]
    return repeated * (3.0 / channels)


def _is_new_head(name):
    """The layers a pretrained model may lack: its classifiers and the auxiliary heads."""
    return name.endswith("predictions") or name.startswith("aux")


def _input_conv(model):
    """The name of `model`'s first layer with a 4-D kernel: the convolution that reads the
    image, whose kernel adapt_input_conv fits to other input channels."""
    for layer in model.layers:
        kernel = getattr(layer, "kernel", None)
        if kernel is not None and len(kernel.shape) == 4:
            return layer.name
    return None


def load_layers(model, stored, weights, new_heads=True):
    """Sets `model`'s layers from `stored` ({layer name: [arrays]}) by name; `weights` names
    the source in messages. Returns the names of the new (randomly initialised) head layers;
    with new_heads=False a head that does not fit is refused as any other layer (an export
    must not ship a random classifier)."""
    first = _input_conv(model)
    new, wrong = [], []
    for layer in model.layers:
        if not layer.weights:
            continue
        arrays = stored.get(layer.name)
        shapes = [tuple(w.shape) for w in layer.weights]
        if arrays is not None and layer.name == first and len(arrays) == len(shapes):
            channels = shapes[0][2]
            if arrays[0].shape[2] != channels and arrays[0].shape[2] == 3:
                arrays = [adapt_input_conv(arrays[0], channels), *arrays[1:]]
                logger.info(
                    "%s: %s adapted from 3 to %d input channels.", model.name, first, channels
                )
        if arrays is not None and [a.shape for a in arrays] == shapes:
            layer.set_weights(arrays)
        elif new_heads and _is_new_head(layer.name):
            new.append(layer.name)
        else:
            wrong.append(layer.name)
    if wrong:
        raise ValueError(
            f"weights={weights} does not fit architecture {model.name!r}: no stored weights of "
            f"the right shape for {', '.join(wrong[:5])}"
            + (f" (and {len(wrong) - 5} more)" if len(wrong) > 5 else "")
            + "; accepted: a file of this architecture with the same options."
        )
    return new
