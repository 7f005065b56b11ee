"""MobileNet v1, v2 and v3: the conversion rows and weight cards (torchvision, timm,
keras.applications), read by keras_classics/weights/.

Our layer names are keras.applications' own, so its files map layer to layer (its published
Keras 2 files name a depthwise kernel "depthwise_kernel": weights/checkpoint.py reads an
unknown single variable as "kernel"); torchvision's
and timm's module names come from a name map per version. Each row sets the `convention` of
the weights' release: keras.applications "tf" (TensorFlow 'same' padding), torchvision and
timm "torch" (symmetric padding; their BN epsilon).
"""

import dataclasses
import re

import keras
import numpy as np

from keras_classics.records.input_config import InputConfig
from keras_classics.weights import keras_layout, torch_layout
from keras_classics.weights.cards import keras_card, register_cards, timm_card, torchvision_card
from keras_classics.weights.conversion import Take, register_conversions

TORCH = dict(convention="torch")
# keras.applications' MobileNet and MobileNetV2 take preprocess_input mode "tf" ([-1, 1]);
# MobileNetV3 rescales inside the model (its Rescaling layer, include_preprocessing=True),
# which the same mode does outside ours (the layer has no weights, nothing to convert).
KERAS_TF_224 = InputConfig("tf", 224)
# timm's mobilenetv1_100 config: mean = std = 0.5 ([-1, 1]), bicubic, crop 0.875.
TIMM_V1 = InputConfig("tf", 224, 0.875, "bicubic")


def depthwise_kernel(channels):
    """torch's depthwise Conv2d weight (C * m, 1, kh, kw) -> Keras' DepthwiseConv2D kernel
    (kh, kw, C, m): output channel c * m + j is input c's j-th filter in both."""

    def fn(weight):
        _, _, kh, kw = weight.shape
        return np.transpose(weight.reshape(channels, -1, kh, kw), (2, 3, 0, 1))

    return fn


def torch_takes(layer, prefix):
    """torch_layout.takes, and DepthwiseConv2D's layout."""
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        return (Take((f"{prefix}.weight",), depthwise_kernel(layer.kernel.shape[2])),)
    return torch_layout.takes(layer, prefix)


def torch_plan(module_names):
    def plan_fn(model):
        names = module_names(model)
        return {
            layer.name: torch_takes(layer, names[layer.name])
            for layer in model.layers
            if layer.weights and layer.name in names
        }

    return plan_fn


def _layer_names(model):
    return {layer.name for layer in model.layers if layer.weights}


# --- v1: timm mobilenetv1_100 ------------------------------------------------------------

# timm's stages of depthwise separable blocks (its arch_def dsa_r1/r2/r2/r6/r2): our layer
# index k = 1 ... 13 -> timm's blocks.{stage}.{index}.
_TIMM_V1_BLOCKS = [(s, i) for s, n in enumerate((1, 2, 2, 6, 2)) for i in range(n)]
_V1_LAYER = re.compile(r"conv_(dw|pw)_(\d+)(_bn)?")


def timm_v1_module(name):
    """conv1/conv1_bn -> conv_stem/bn1; conv_dw_k[_bn] -> blocks.s.i.conv_dw/bn1;
    conv_pw_k[_bn] -> blocks.s.i.conv_pw/bn2; predictions -> classifier."""
    fixed = {"conv1": "conv_stem", "conv1_bn": "bn1", "predictions": "classifier"}
    if name in fixed:
        return fixed[name]
    kind, index, bn = _V1_LAYER.fullmatch(name).groups()
    stage, block = _TIMM_V1_BLOCKS[int(index) - 1]
    part = {("dw", None): "conv_dw", ("dw", "_bn"): "bn1", ("pw", None): "conv_pw"}.get(
        (kind, bn), "bn2"
    )
    return f"blocks.{stage}.{block}.{part}"


def timm_v1_names(model):
    return {name: timm_v1_module(name) for name in _layer_names(model)}


# --- v2: torchvision mobilenet_v2 --------------------------------------------------------


def torchvision_v2_module(name):
    """Conv1/bn_Conv1 -> features.0.0/1; block k (expanded_conv_ for k = 0) -> features.{k+1}
    .conv: [expand 0.0/0.1], depthwise (0 or 1).0/.1, project and its BN the next two;
    Conv_1/Conv_1_bn -> features.18.0/1; predictions -> classifier.1."""
    fixed = {
        "Conv1": "features.0.0",
        "bn_Conv1": "features.0.1",
        "Conv_1": "features.18.0",
        "Conv_1_bn": "features.18.1",
        "predictions": "classifier.1",
    }
    if name in fixed:
        return fixed[name]
    match = re.fullmatch(r"(?:block_(\d+)|expanded_conv)_(expand|depthwise|project)(_BN)?", name)
    block, part, bn = match.groups()
    block = int(block or 0)
    first = 0 if block == 0 else 1  # the depthwise unit's index (block 0 has no expansion)
    if part == "expand":
        return f"features.{block + 1}.conv.0.{1 if bn else 0}"
    if part == "depthwise":
        return f"features.{block + 1}.conv.{first}.{1 if bn else 0}"
    return f"features.{block + 1}.conv.{first + (2 if bn else 1)}"


def torchvision_v2_names(model):
    return {name: torchvision_v2_module(name) for name in _layer_names(model)}


# --- v3: torchvision mobilenet_v3_large / _small -----------------------------------------


def torchvision_v3_names(model):
    """conv/conv_bn -> features.0.0/1; block k (expanded_conv_ for k = 0) -> features.{k+1}
    .block.{j}, j counting its units: [expand], depthwise, [SE (fc1, fc2)], project (each
    unit's conv .0 and BN .1); conv_1/conv_1_bn -> features.{N+1}.0/1; conv_2 ->
    classifier.0; predictions -> classifier.3."""
    present = _layer_names(model)
    names = {"conv": "features.0.0", "conv_bn": "features.0.1"}
    blocks = sorted(
        {int(m[1] or 0) for n in present if (m := re.match(r"expanded_conv_(?:(\d+)_)?", n))}
    )
    for block in blocks:
        prefix = f"expanded_conv_{block}_" if block else "expanded_conv_"
        units = [u for u in ("expand", "depthwise") if f"{prefix}{u}" in present]
        if f"{prefix}squeeze_excite" in present:
            units.append("squeeze_excite")
        units.append("project")
        for j, unit in enumerate(units):
            module = f"features.{block + 1}.block.{j}"
            if unit == "squeeze_excite":
                names[f"{prefix}{unit}"] = module  # fc1, fc2 (torch_layout.takes)
            else:
                names[f"{prefix}{unit}"] = f"{module}.0"
                names[f"{prefix}{unit}_bn"] = f"{module}.1"
    last = f"features.{len(blocks) + 1}"
    names.update(
        {
            "conv_1": f"{last}.0",
            "conv_1_bn": f"{last}.1",
            "conv_2": "classifier.0",
            "predictions": "classifier.3",
        }
    )
    return {k: v for k, v in names.items() if k in present}


# --- keras.applications -------------------------------------------------------------------


def pointwise_dense(weight):
    """A 1x1 Conv2D kernel (1, 1, C, K) on a pooled 1x1 map -> a Dense kernel (C, K)."""
    return weight.reshape(weight.shape[-2:])


def keras_plan(dense_sources):
    """Same layer names; our Dense layers (`{ours: keras.applications' 1x1 Conv2D}`) and
    SqueezeExcite layers (its two 1x1 convs) read their 1x1 convolutions."""

    def plan_fn(model):
        plan = {}
        for layer in model.layers:
            if not layer.weights:
                continue
            if layer.name in dense_sources:
                source = dense_sources[layer.name]
                plan[layer.name] = (
                    Take((f"{source}/kernel",), pointwise_dense),
                    Take((f"{source}/bias",)),
                )
            elif layer.name.endswith("squeeze_excite"):
                plan[layer.name] = keras_layout.squeeze_excite_takes(
                    f"{layer.name}_conv", f"{layer.name}_conv_1"
                )
            else:
                plan[layer.name] = keras_layout.variables(layer, layer.name)
        return plan

    return plan_fn


def _keras(name, model, dense_sources, head):
    return keras_layout.row(
        name,
        model,
        keras_plan(dense_sources),
        head,
        input=KERAS_TF_224,
    )


register_conversions(
    torch_layout.row(
        "torchvision",
        "mobilenet_v2",
        "mobilenet_v2",
        torch_plan(torchvision_v2_names),
        ("classifier.",),
        input=torch_layout.TORCHVISION_224,
        **TORCH,
    ),
    torch_layout.row(
        "torchvision",
        "mobilenet_v3_large",
        "mobilenet_v3_large",
        torch_plan(torchvision_v3_names),
        ("classifier.",),
        input=torch_layout.TORCHVISION_224,
        **TORCH,
    ),
    torch_layout.row(
        "torchvision",
        "mobilenet_v3_small",
        "mobilenet_v3_small",
        torch_plan(torchvision_v3_names),
        ("classifier.",),
        input=torch_layout.TORCHVISION_224,
        **TORCH,
    ),
    torch_layout.row(
        "timm",
        "mobilenetv1_100",
        "mobilenet_v1",
        torch_plan(timm_v1_names),
        ("classifier.",),
        input=TIMM_V1,
        **TORCH,
    ),
    _keras("MobileNet", "mobilenet_v1", {"predictions": "conv_preds"}, ("conv_preds/",)),
    _keras("MobileNetV2", "mobilenet_v2", {}, ("predictions/",)),
    _keras(
        "MobileNetV3Large",
        "mobilenet_v3_large",
        {"conv_2": "conv_2", "predictions": "logits"},
        ("conv_2/", "logits/"),
    ),
    _keras(
        "MobileNetV3Small",
        "mobilenet_v3_small",
        {"conv_2": "conv_2", "predictions": "logits"},
        ("conv_2/", "logits/"),
    ),
)

# keras.applications publishes no top-5 for its MobileNetV3 weights (its source's table gives
# top-1 only, from the TF release's README): NaN, printed "nan".
UNPUBLISHED = float("nan")
# keras.applications' MobileNet and MobileNetV2 weights are the TF-slim release's (Apache-2.0);
# its source gives them no hash (empty: the first download's sha256 is recorded, then checked).
KERAS_LICENSE = "Apache-2.0 (the TF-slim / TensorFlow models release)"


def _no_hash(card):
    return dataclasses.replace(card, hashes={})


# One card per source and model: keras.applications' cards are its defaults (alpha 1.0, 224
# pixels, not minimalistic). Its other widths, sizes and minimalistic files load through
# `python -m keras_classics.convert` into a model built with the same options.
register_cards(
    torchvision_card(
        "mobilenet_v2",
        "IMAGENET1K_V1",
        "mobilenet_v2-b0353104.pth",
        71.878,
        90.286,
        3_504_872,
        0.301,
        13.555,
        256,
        224,
        "tree/main/references/classification#mobilenetv2",
    ),
    torchvision_card(
        "mobilenet_v2",
        "IMAGENET1K_V2",
        "mobilenet_v2-7ebf99e0.pth",
        72.154,
        90.822,
        3_504_872,
        0.301,
        13.598,
        232,
        224,
        "issues/3995#new-recipe-with-reg-tuning",
    ),
    torchvision_card(
        "mobilenet_v3_large",
        "IMAGENET1K_V1",
        "mobilenet_v3_large-8738ca79.pth",
        74.042,
        91.34,
        5_483_032,
        0.217,
        21.114,
        256,
        224,
        "tree/main/references/classification#mobilenetv3-large--small",
    ),
    torchvision_card(
        "mobilenet_v3_large",
        "IMAGENET1K_V2",
        "mobilenet_v3_large-5c1a4163.pth",
        75.274,
        92.566,
        5_483_032,
        0.217,
        21.107,
        232,
        224,
        "issues/3995#new-recipe-with-reg-tuning",
    ),
    torchvision_card(
        "mobilenet_v3_small",
        "IMAGENET1K_V1",
        "mobilenet_v3_small-047dcff4.pth",
        67.668,
        87.402,
        2_542_856,
        0.057,
        9.829,
        256,
        224,
        "tree/main/references/classification#mobilenetv3-large--small",
    ),
    # timm's results-imagenet.csv at 224 (its 256 test size: 76.088 / 93.006).
    timm_card(
        "mobilenetv1_100.ra4_e3600_r224_in1k",
        75.388,
        92.310,
        224,
        0.875,
        "bicubic",
        "apache-2.0",
        4_231_976,
    ),
    # keras.io's applications table (MobileNet, MobileNetV2) and keras.applications'
    # MobileNetV3 docstring (top-1 only).
    _no_hash(
        keras_card(
            "MobileNet",
            "mobilenet/mobilenet_1_0_224_tf.h5",
            "",
            70.4,
            89.5,
            16,
            KERAS_LICENSE,
            4_231_976,
        )
    ),
    _no_hash(
        keras_card(
            "MobileNetV2",
            "mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5",
            "",
            71.3,
            90.1,
            14,
            KERAS_LICENSE,
            3_504_872,
        )
    ),
    keras_card(
        "MobileNetV3Large",
        "mobilenet_v3/weights_mobilenet_v3_large_224_1.0_float.h5",
        "59e551e166be033d707958cf9e29a6a7",
        75.6,
        UNPUBLISHED,
        None,
        KERAS_LICENSE,
        5_483_032,
    ),
    keras_card(
        "MobileNetV3Small",
        "mobilenet_v3/weights_mobilenet_v3_small_224_1.0_float.h5",
        "8768d4c2e7dee89b9d02b2d03d65d862",
        68.1,
        UNPUBLISHED,
        None,
        KERAS_LICENSE,
        2_542_856,
    ),
)
