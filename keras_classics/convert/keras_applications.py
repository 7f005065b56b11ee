"""keras.applications weight files (ResNet, VGG, InceptionV3, InceptionResNetV2 .h5) ->
keras_classics models.

keras.applications' ResNet is the paper's Caffe release: stride in the first 1x1 of a
bottleneck (our downsample_at="1x1"), a bias on every conv, BN epsilon 1.001e-5, caffe
preprocessing (BGR, mean pixel subtracted). Our ResNet has no conv biases and epsilon 1e-5;
both differences fold exactly into the BN that follows each conv, at inference:

  BN(conv(x) + b) with mean m:  the same as BN(conv(x)) with mean m - b;
  (x - m) / sqrt(v + 1.001e-5):  the same as (x - m) / sqrt(v' + 1e-5), v' = v + 1e-8.

In training BN normalises with batch statistics, where a constant bias cancels, so the plain
builder loses nothing and needs no conv-bias option. Layer names are keras.applications' own
(ResNet) or its blockN_convM/fc1/fc2 (VGG).

keras.applications' InceptionV3 and InceptionResNetV2 have BN without scale (our
bn_scale=False) and eps 1e-3 (ours), and leave most conv and BN layers unnamed: Keras names
them conv2d, conv2d_1, ... in the order they are made, counting on from the layers made
before in the same session (the published files, from Keras 2, start at conv2d_1). Those
layers are paired with ours by creation order, the same in both builders: a module after the
one before, in a module branch after branch, in a branch position after position.
"""

import re

import keras
import numpy as np

from keras_classics.convert.core import Conversion, Take, convert, find, table
from keras_classics.models._inception import operation_at
from keras_classics.models.resnet import BN as RESNET_BN
from keras_classics.preprocessing import InputConfig

SOURCE = "keras.applications"
KERAS_APPLICATIONS_BN_EPSILON = 1.001e-5
_VGG_CONV = re.compile(r"conv(\d)_(\d)")
_VGG_DENSE = {"fc6": "fc1", "fc7": "fc2", "predictions": "predictions"}


def _variables(layer, source_layer):
    return tuple(Take((f"{source_layer}/{variable.name}",)) for variable in layer.weights)


def fold_conv_bias(mean, bias):
    return (np.float64(mean) - bias).astype(np.float32)


def fold_epsilon(variance):
    shift = KERAS_APPLICATIONS_BN_EPSILON - RESNET_BN["epsilon"]
    return (np.float64(variance) + shift).astype(np.float32)


def resnet_plan(model):
    """Same layer names; each BN takes its conv's bias into its mean, and the epsilon shift."""
    plan = {}
    for layer in model.layers:
        if not layer.weights:
            continue
        if isinstance(layer, keras.layers.BatchNormalization):
            conv = layer.name[: -len("_bn")] + "_conv"
            bn = layer.name
            plan[bn] = (
                Take((f"{bn}/gamma",)),
                Take((f"{bn}/beta",)),
                Take((f"{bn}/moving_mean", f"{conv}/bias"), fold_conv_bias),
                Take((f"{bn}/moving_variance",), fold_epsilon),
            )
        else:
            plan[layer.name] = _variables(layer, layer.name)
    return plan


def vgg_plan(model):
    """Our conv{s}_{j}, fc6, fc7 are keras.applications' block{s}_conv{j}, fc1, fc2."""
    plan = {}
    for layer in model.layers:
        match = _VGG_CONV.fullmatch(layer.name)
        source = f"block{match[1]}_conv{match[2]}" if match else _VGG_DENSE.get(layer.name)
        if layer.weights and source:
            plan[layer.name] = _variables(layer, source)
    return plan


# Keras' automatic layer names: the kind, then _1, _2 ... for each further layer of the kind.
_AUTO_NAMED = re.compile(r"(conv2d|batch_normalization)(?:_(\d+))?")


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


def creation_order(model):
    """Sort key of our Inception layers in the order the builder made them. model.layers is
    sorted by depth, which interleaves a module's branches; a module's operations are ordered
    by (branch, position, split) after the layers before the module."""
    index = {layer.name: i for i, layer in enumerate(model.layers)}
    first = {}
    for name, i in index.items():
        operation = operation_at(name)
        if operation:
            first[operation.module] = min(first.get(operation.module, i), i)

    def key(layer):
        operation = operation_at(layer.name)
        if operation is None:
            return (index[layer.name], 0, 0, "")
        return (first[operation.module], operation.branch, operation.position, operation.split)

    return key


def inception_plan(named):
    """Plan of an Inception net: the conv units (conv + BN `{conv}_bn`) that `named` does not
    name take the automatically named layers in creation order; `named(our layer name)`
    gives the source's name of the other layers (or None)."""

    def plan_fn(model):
        layers = {layer.name: layer for layer in model.layers}
        units = sorted(
            (
                layer
                for layer in model.layers
                if isinstance(layer, keras.layers.Conv2D)
                and f"{layer.name}_bn" in layers
                and named(layer.name) is None
            ),
            key=creation_order(model),
        )
        plan = {}
        for rank, conv in enumerate(units):
            bn = layers[f"{conv.name}_bn"]
            plan[conv.name] = _variables(conv, f"conv2d#{rank}")
            plan[bn.name] = _variables(bn, f"batch_normalization#{rank}")
        for layer in model.layers:
            source = named(layer.name) if layer.weights and layer.name not in plan else None
            if source:
                plan[layer.name] = _variables(layer, source)
        return plan

    return plan_fn


def inception_v3_named(name):
    return "predictions" if name == "predictions" else None


_BLOCK_UP = re.compile(r"(block(?:35|17|8)_\d+)_up_conv")


def inception_resnet_v2_named(name):
    """Layers keras.applications names: each block's linear 1x1 conv (block35_1_conv ...),
    the final conv unit conv_7b (+ conv_7b_bn), predictions."""
    match = _BLOCK_UP.fullmatch(name)
    if match:
        return f"{match[1]}_conv"
    return {
        "conv_7b_1x1": "conv_7b",
        "conv_7b_1x1_bn": "conv_7b_bn",
        "predictions": "predictions",
    }.get(name)


# keras.applications' preprocess_input: "caffe" (BGR, mean pixel) for ResNet and VGG at 224,
# "tf" ([-1, 1]) for the Inception nets at 299; it documents no eval crop, so the papers'
# 0.875 centre crop with a bilinear resize.
CAFFE_224 = InputConfig("caffe", 224)


def _row(name, model, plan, head, input=CAFFE_224, **fields):  # noqa: A002
    return Conversion(
        source=SOURCE, name=name, model=model, plan=plan, input=input, head=head, **fields
    )


# InceptionV3 has no aux head (aux_logits=True is refused).
_INCEPTION = dict(input=InputConfig("tf", 299), rename=rank_auto_named)

ROWS = table(
    *(
        _row(
            f"ResNet{depth}",
            f"resnet{depth}",
            resnet_plan,
            ("predictions/",),
            builder_kwargs=dict(downsample_at="1x1"),
        )
        for depth in (50, 101, 152)
    ),
    *(
        _row(f"VGG{depth}", f"vgg{depth}", vgg_plan, ("fc1/", "fc2/", "predictions/"))
        for depth in (16, 19)
    ),
    _row(
        "InceptionV3",
        "inception_v3",
        inception_plan(inception_v3_named),
        ("predictions/",),
        builder_kwargs=dict(bn_scale=False, aux_logits=False),
        **_INCEPTION,
    ),
    _row(
        "InceptionResNetV2",
        "inception_resnet_v2",
        inception_plan(inception_resnet_v2_named),
        ("predictions/",),
        builder_kwargs=dict(bn_scale=False),
        **_INCEPTION,
    ),
)


def from_keras_applications(name, checkpoint, **builder_kwargs):
    """Our model of keras.applications' `name` with the weights of `checkpoint` loaded.

    Args:
      name: the keras.applications builder name ("ResNet50", "VGG16" ...).
      checkpoint: a .h5 weights file (the published *_weights_tf_dim_ordering_tf_kernels*.h5,
        or model.save_weights / model.save of a keras.applications model), a keras.Model
        built by keras.applications, or a mapping "layer/variable" -> array.
      **builder_kwargs: builder options (include_top, classes, classifier_activation ...).
    Returns:
      the keras.Model, taking NHWC input preprocessed as keras.applications' own: "caffe"
      (BGR, ImageNet mean pixel subtracted) for ResNet and VGG, "tf" ([-1, 1]) for the
      Inception nets (`preprocess_input(x, row.input.mode)`).
    """
    return convert(find(ROWS, SOURCE, name), checkpoint, **builder_kwargs)
