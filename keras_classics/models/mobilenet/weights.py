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


# keras.applications' files: its source's BASE_WEIGHT_PATH and file names (include_top), and
# for MobileNetV3 its WEIGHTS_HASHES (the include_top md5, first of each pair).
KERAS_V3_MD5 = {
    "large_224_0.75_float": "765b44a33ad4005b3ac83185abf1d0eb",
    "large_224_1.0_float": "59e551e166be033d707958cf9e29a6a7",
    "large_minimalistic_224_1.0_float": "675e7b876c45c57e9e63e6d90a36599c",
    "small_224_0.75_float": "cb65d4e5be93758266aa0a7f2c6708b7",
    "small_224_1.0_float": "8768d4c2e7dee89b9d02b2d03d65d862",
    "small_minimalistic_224_1.0_float": "99cd97fb2fcdad2bf028eb838de69e37",
}
# Trainable parameters of keras.applications' builders with weights=None and these options
# (tests/pretrained/test_cards.py builds them; ours has the same count).
KERAS_PARAMS = {
    ("MobileNet", 0.25): 470_072,
    ("MobileNet", 0.5): 1_331_592,
    ("MobileNet", 0.75): 2_585_560,
    ("MobileNet", 1.0): 4_231_976,
    ("MobileNetV2", 0.35): 1_677_128,
    ("MobileNetV2", 0.5): 1_968_680,
    ("MobileNetV2", 0.75): 2_636_424,
    ("MobileNetV2", 1.0): 3_504_872,
    ("MobileNetV2", 1.3): 5_386_792,
    ("MobileNetV2", 1.4): 6_108_776,
    ("MobileNetV3Large", 0.75, False): 3_993_528,
    ("MobileNetV3Large", 1.0, False): 5_483_032,
    ("MobileNetV3Large", 1.0, True): 3_924_288,
    ("MobileNetV3Small", 0.75, False): 2_041_872,
    ("MobileNetV3Small", 1.0, False): 2_542_856,
    ("MobileNetV3Small", 1.0, True): 2_044_736,
}
# keras.applications' MobileNet names its widths "2_5", "5_0", "7_5", "1_0" in its files.
_V1_ALPHA_TEXT = {0.25: "2_5", 0.5: "5_0", 0.75: "7_5", 1.0: "1_0"}


def _keras_group(name, entry):
    """The card of one keras.applications MobileNet file: `entry` is ((alpha, rows), top-1,
    top-5[, size_mb]) for MobileNet and MobileNetV2 (no hash published), ((alpha,
    minimalistic), top-1) for MobileNetV3 (224 rows, its md5, no top-5 published)."""
    (alpha, second), top1, *rest = entry
    if name.startswith("MobileNetV3"):
        minimalistic, rows, top5, size_mb = second, 224, UNPUBLISHED, None
        key = f"{name[11:].lower()}{'_minimalistic' if minimalistic else ''}_224_{alpha}_float"
        file, md5 = f"mobilenet_v3/weights_mobilenet_v3_{key}.h5", KERAS_V3_MD5[key]
        options = dict(alpha=alpha, minimalistic=minimalistic)
        params = KERAS_PARAMS[name, alpha, minimalistic]
        tag = f"imagenet{'_minimalistic' if minimalistic else ''}_{alpha}_224"
        default = (alpha, minimalistic) == (1.0, False)
    else:
        rows = second
        top5, size_mb = rest[0], (rest[1] if len(rest) > 1 else None)
        if name == "MobileNet":
            file = f"mobilenet/mobilenet_{_V1_ALPHA_TEXT[alpha]}_{rows}_tf.h5"
        else:
            file = f"mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{alpha}_{rows}.h5"
        md5 = ""
        options = dict(alpha=alpha)
        params = KERAS_PARAMS[name, alpha]
        tag = f"imagenet_{alpha}_{rows}"
        default = (alpha, rows) == (1.0, 224)
    card = keras_card(
        name,
        file,
        md5,
        top1,
        top5,
        size_mb,
        KERAS_LICENSE,
        params,
        tag="imagenet" if default else tag,
        options=options,
        size=rows,
        group="imagenet",
    )
    return card if md5 else _no_hash(card)


# One card per upstream file. keras.applications' MobileNets publish a file per width (alpha),
# input rows and minimalistic, all under its weights="imagenet": one group per model
# (cards.resolve), whose default is the alpha 1.0, 224-pixel, non-minimalistic file.
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
    *(
        _keras_group("MobileNet", card)
        for card in (
            # keras.io's applications table for the default file (keras' own measurement,
            # 16 MB); TF-slim's mobilenet_v1.md table for the others.
            ((1.0, 224), 70.4, 89.5, 16),
            ((1.0, 192), 70.0, 89.2),
            ((1.0, 160), 68.0, 87.7),
            ((1.0, 128), 65.2, 85.8),
            ((0.75, 224), 68.4, 88.2),
            ((0.75, 192), 67.2, 87.3),
            ((0.75, 160), 65.3, 86.0),
            ((0.75, 128), 62.1, 83.9),
            ((0.5, 224), 63.3, 84.9),
            ((0.5, 192), 61.7, 83.6),
            ((0.5, 160), 59.1, 81.9),
            ((0.5, 128), 56.3, 79.4),
            ((0.25, 224), 49.8, 74.2),
            ((0.25, 192), 47.7, 72.3),
            ((0.25, 160), 45.5, 70.3),
            ((0.25, 128), 41.5, 66.3),
        )
    ),
    *(
        _keras_group("MobileNetV2", card)
        for card in (
            # keras.io's table for the default file (14 MB); TF-slim's mobilenet/README.md
            # for the others (1.3 and 1.4 were released at 224 only).
            ((1.0, 224), 71.3, 90.1, 14),
            ((1.4, 224), 75.0, 92.5),
            ((1.3, 224), 74.4, 92.1),
            ((1.0, 192), 70.7, 90.1),
            ((1.0, 160), 68.8, 89.0),
            ((1.0, 128), 65.3, 86.9),
            ((1.0, 96), 60.3, 83.2),
            ((0.75, 224), 69.8, 89.6),
            ((0.75, 192), 68.7, 88.9),
            ((0.75, 160), 66.4, 87.3),
            ((0.75, 128), 63.2, 85.3),
            ((0.75, 96), 58.8, 81.6),
            ((0.5, 224), 65.4, 86.4),
            ((0.5, 192), 63.9, 85.4),
            ((0.5, 160), 61.0, 83.2),
            ((0.5, 128), 57.7, 80.8),
            ((0.5, 96), 51.2, 75.8),
            ((0.35, 224), 60.3, 82.9),
            ((0.35, 192), 58.2, 81.2),
            ((0.35, 160), 55.7, 79.1),
            ((0.35, 128), 50.8, 75.0),
            ((0.35, 96), 45.5, 70.4),
        )
    ),
    # keras.applications' MobileNetV3 docstring (top-1 only, as TF-slim's mobilenet/README.md
    # but for the 1.0 files: docstring 75.6 and 68.1, README 75.2 and 67.5).
    *(
        _keras_group(name, card)
        for name, cards in (
            (
                "MobileNetV3Large",
                (((1.0, False), 75.6), ((0.75, False), 73.3), ((1.0, True), 72.3)),
            ),
            (
                "MobileNetV3Small",
                (((1.0, False), 68.1), ((0.75, False), 65.4), ((1.0, True), 61.9)),
            ),
        )
        for card in cards
    ),
)
