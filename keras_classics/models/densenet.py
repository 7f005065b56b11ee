"""DenseNet: Huang, Liu, van der Maaten & Weinberger, "Densely Connected Convolutional
Networks", CVPR 2017, Table 1 (the ImageNet DenseNet-BC nets) and section 3.

Every ImageNet net of the paper is a DenseNet-BC (section 3, "Implementation Details"): each
dense layer is BN-ReLU-Conv(1x1, 4k)-BN-ReLU-Conv(3x3, k), its k new maps concatenated to its
input; a transition layer (BN-ReLU-Conv(1x1)-2x2 average pool, stride 2) halves the channels
(compression theta = 0.5) and the grid between dense blocks. Layer names are keras.applications'
(conv1_conv, conv2_block1_1_conv, pool2_conv, bn ...), so its weight files convert by name.
"""

import dataclasses
import re

import keras
import numpy as np

from keras_classics.layers import Conv2D
from keras_classics.models import _core, _heads
from keras_classics.models._units import he_normal
from keras_classics.records.augmentation import Augmentation
from keras_classics.records.recipe import Recipe
from keras_classics.records.registry import ReplicaCheck
from keras_classics.weights import cards, conversion, keras_layout, torch_layout
from keras_classics.weights.conversion import Take

PAPER = "Huang et al. 2017, Densely Connected Convolutional Networks, Table 1"

# Section 3, "Implementation Details": the bottleneck 1x1 produces 4k maps (the "B" of
# DenseNet-BC) and a transition keeps floor(theta * m) of its m maps, theta = 0.5 (the "C").
BOTTLENECK = 4
COMPRESSION = 0.5
# The release trains with fb.resnet.torch's Torch BN (eps 1e-5, momentum 0.1 = Keras 0.9), as
# torchvision's port; keras.applications uses eps 1.001e-5 (folded on conversion, below).
BN = dict(epsilon=1e-5, momentum=0.9)


@dataclasses.dataclass(frozen=True)
class Config:
    """One row of Table 1: its name's depth L, growth rate k, the dense layers of each block,
    the stem's width (2k in the paper's text: 64 for k = 32, 96 for DenseNet-161's k = 48).

    L counts two convolutions per dense layer, the stem conv, the transitions' 1x1 convs and
    the classifier (DenseNet-121: 2 * 58 + 5); DenseNet-264's blocks give 265 by that count,
    but Table 1 names it 264, and so does the row."""

    depth: int
    growth_rate: int
    depths: tuple
    stem_width: int = 64


def conv(x, filters, kernel, name, stride=1):
    """conv without bias: every conv's output reaches a BN before any nonlinearity.
    keras_classics' Conv2D: the 3x3 convs of the last block at small inputs (1x1 maps at 32
    pixels) skip the taps that only meet padding; at 224 it is keras.layers.Conv2D."""
    return Conv2D(
        filters,
        kernel,
        strides=stride,
        padding="same" if stride == 1 else "valid",
        use_bias=False,
        # He normal over the fan-in, as torchvision's and timm's DenseNets (kaiming_normal_).
        # The release (densenet.lua, "Initialization following ResNet") draws over the
        # fan-out: a bottleneck 1x1 over up to ~1,000 concatenated maps then starts at about
        # in/128 times its input's variance, and a model evaluated after a few steps, its BN
        # moving statistics still near their initial values, gives logits in the hundreds
        # (tests/training/test_train.py); fan-in keeps each conv's output variance.
        kernel_initializer=he_normal("fan_in"),
        name=f"{name}_conv",
    )(x)


def bn_relu(x, name):
    """Pre-activation BN + ReLU: DenseNet's composite function H is BN-ReLU-Conv (section 3)."""
    x = keras.layers.BatchNormalization(**BN, name=f"{name}_bn")(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x)


def dense_layer(x, growth_rate, name):
    """BN-ReLU-Conv(1x1, 4k)-BN-ReLU-Conv(3x3, k), concatenated to its input: the layer's
    output is every earlier map of the block and its own k (Eq. 2). Each layer holds a new
    concatenation, so a block's activations grow quadratically with its depth; torchvision's
    memory_efficient re-computation is not needed at these sizes."""
    h = conv(bn_relu(x, f"{name}_0"), BOTTLENECK * growth_rate, 1, f"{name}_1")
    h = conv(bn_relu(h, f"{name}_1"), growth_rate, 3, f"{name}_2")
    return keras.layers.Concatenate(name=f"{name}_concat")([x, h])


def transition(x, name):
    """BN-ReLU-Conv(1x1, floor(theta * m))-AvgPool(2x2, stride 2) (section 3, "Transition
    layers"; the 1x1 conv before the pool, as Table 1 and the release order them)."""
    x = conv(bn_relu(x, name), int(x.shape[-1] * COMPRESSION), 1, name)
    return keras.layers.AveragePooling2D(2, strides=2, name=f"{name}_pool")(x)


def body(x, config):
    """Table 1: conv 7x7/2 (2k maps), max pool 3x3/2; dense blocks 1-4 (keras.applications'
    conv2 ... conv5) with transitions 1-3 (pool2 ... pool4) between them; then the BN-ReLU
    that closes the last block (the release's and torchvision's; Table 1 leaves it out) before
    the 7x7 global average pool."""
    x = keras.layers.ZeroPadding2D(3, name="conv1_pad")(x)
    x = bn_relu(conv(x, config.stem_width, 7, "conv1", stride=2), "conv1")
    endpoints = {"conv1": x}
    # Zero padding, as keras.applications: after the ReLU it equals Torch's -inf padding.
    x = keras.layers.ZeroPadding2D(1, name="pool1_pad")(x)
    x = keras.layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    last = len(config.depths) + 1
    for stage, depth in enumerate(config.depths, start=2):
        for index in range(1, depth + 1):
            x = dense_layer(x, config.growth_rate, f"conv{stage}_block{index}")
        endpoints[f"conv{stage}"] = x
        if stage < last:
            x = endpoints[f"pool{stage}"] = transition(x, f"pool{stage}")
    x = keras.layers.BatchNormalization(**BN, name="bn")(x)
    endpoints["relu"] = keras.layers.ReLU(name="relu")(x)
    return endpoints


def configure(row, *, depths):
    """The row with the caller's `depths` checked and applied."""
    depths = _core.check_depths(depths, row.depths)
    # 224x224 crops (section 4.1); min 32 as keras.applications: a 1x1 map after
    # the third transition's pool.
    return _core.Architecture(
        dataclasses.replace(row, depths=depths),
        default_size=224,
        min_size=32,
        head=_heads.pool_head(),
    )


OPTIONS = (
    _core.Option(
        "depths",
        None,
        "Dense layers in dense blocks 1-4 (the Table 1 row's when None), as keras.applications' "
        "DenseNet(blocks) and torchvision's block_config: e.g. DenseNet121(depths=(6, 12, 64, "
        "48)) is DenseNet-264's depths.",
    ),
)


def summary(row):
    return (
        f"DenseNet-BC-{row.depth} ({'Table 1' if row.growth_rate == 32 else 'the release'}), "
        f"growth rate k={row.growth_rate}, dense blocks of "
        f"{row.depths} layers, a {row.stem_width}-map stem.\n\n"
        "224x224 input, global average pooling head."
    )


# Training: section 4.2 (ImageNet) and the release's README: SGD batch 256, 90 epochs, LR 0.1
# / 10 at epochs 30 and 60, weight decay 1e-4, Nesterov momentum 0.9 without dampening
# (section 4.2; Keras' SGD has no dampening), no dropout. Weight decay on every parameter, BN's
# included: the release trains with fb.resnet.torch, whose optim.sgd decays all of them.
RECIPE = Recipe(
    "Huang et al. 2017, section 4.2",
    "sgd",
    0.1,
    256,
    90,
    "steps",
    1e-4,
    milestones=(30, 60),
    nesterov=True,
)
# Augmentation: section 4.1 adopts the ResNet papers' data augmentation ([8, 11, 12]), as
# fb.resnet.torch implements it and the release trains with: RandomSizedCrop (8-100% of the
# area, aspect 3/4 to 4/3: Inception's window), ColorJitter (brightness, contrast, saturation
# 0.4, random order), then AlexNet's PCA lighting (std 0.1), and a flip.
AUGMENTATION = Augmentation(
    "densenet",
    "Huang et al. 2017, section 4.1 (fb.resnet.torch)",
    "area",
    after_resize=("color_jitter", "pca_lighting"),
)
DENSENET = _core.Family(
    "densenet",
    PAPER,
    configure,
    body,
    OPTIONS,
    describe=summary,
    augmentation=AUGMENTATION,
    recipe=RECIPE,
)

# Table 1's four nets (k = 32) and DenseNet-161 (k = 48, 96-map stem).
# Replica equivalence (keras_classics/training/equivalence.py) in float64, as every BN net; one
# dense layer per block keeps the check small (every dense layer is the same kind).
DenseNet121 = DENSENET.register(
    "densenet121",
    "DenseNet121",
    Config(121, 32, (6, 12, 24, 16)),
    replica_check=ReplicaCheck(32, builder_options=(("depths", (1, 1, 1, 1)),)),
)
DenseNet169 = DENSENET.register("densenet169", "DenseNet169", Config(169, 32, (6, 12, 32, 32)))
DenseNet201 = DENSENET.register("densenet201", "DenseNet201", Config(201, 32, (6, 12, 48, 32)))
DenseNet264 = DENSENET.register("densenet264", "DenseNet264", Config(264, 32, (6, 12, 64, 48)))
# DenseNet-161 is not in Table 1: the authors' release (its README's ImageNet models) and
# torchvision's densenet161; it trains with the family's recipe.
RELEASE = dataclasses.replace(
    DENSENET, paper="Huang et al. 2017, Densely Connected Convolutional Networks, release (k=48)"
)
DenseNet161 = RELEASE.register("densenet161", "DenseNet161", Config(161, 48, (6, 12, 36, 24), 96))


# --- pretrained weights: conversion rows and weight cards (keras_classics/weights) ----------

_LAYER = re.compile(r"conv(\d)_block(\d+)_(\d)_(conv|bn)")
_TRANSITION = re.compile(r"pool(\d)_(conv|bn)")
# A dense layer's units in torchvision's _DenseLayer: norm1, conv1 (the 1x1), norm2, conv2.
_UNIT = {("0", "bn"): "norm1", ("1", "conv"): "conv1", ("1", "bn"): "norm2", ("2", "conv"): "conv2"}
_FIXED = {
    "conv1_conv": "features.conv0",
    "conv1_bn": "features.norm0",
    "bn": "features.norm5",
    "predictions": "classifier",
}


def torchvision_module(name):
    """Our layer (keras.applications' naming) -> torchvision's module: conv{s}_block{i}_* ->
    features.denseblock{s-1}.denselayer{i}.*, pool{s}_* -> features.transition{s-1}.*; None for
    a layer without weights there."""
    if name in _FIXED:
        return _FIXED[name]
    match = _LAYER.fullmatch(name)
    if match:
        stage, index, unit, kind = match.groups()
        layer = f"features.denseblock{int(stage) - 1}.denselayer{index}"
        return f"{layer}.{_UNIT[unit, kind]}"
    match = _TRANSITION.fullmatch(name)
    if match:
        stage, kind = match.groups()
        return f"features.transition{int(stage) - 1}.{'norm' if kind == 'bn' else 'conv'}"
    return None


def torchvision_names(model):
    names = {layer.name: torchvision_module(layer.name) for layer in model.layers if layer.weights}
    return {k: v for k, v in names.items() if v is not None}


# torchvision's published files keep the old module names "norm.1", "conv.2" ...; its
# densenet._load_state_dict renames them (norm.1 -> norm1) before loading, and so does this.
_LEGACY_KEY = re.compile(
    r"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$"
)


def torchvision_rename(state):
    return {_LEGACY_KEY.sub(r"\1\2", key): value for key, value in state.items()}


# keras.applications' DenseNet: the same layer names and layout, BN epsilon 1.001e-5 where ours
# is 1e-5: (x - m) / sqrt(v + 1.001e-5) = (x - m) / sqrt(v' + 1e-5) with v' = v + 1e-8, exact
# at inference. It preprocesses as torchvision ("torch": [0, 1], ImageNet mean and std).
KERAS_BN_EPSILON = 1.001e-5
KERAS_224 = torch_layout.TORCHVISION_224


def fold_epsilon(variance):
    return (np.float64(variance) + (KERAS_BN_EPSILON - BN["epsilon"])).astype(np.float32)


def keras_applications_plan(model):
    plan = {}
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            takes = keras_layout.variables(layer, layer.name)
            plan[layer.name] = (*takes[:3], Take(takes[3].keys, fold_epsilon))
        elif layer.weights:
            plan[layer.name] = keras_layout.variables(layer, layer.name)
    return plan


conversion.register_conversions(
    *(
        dataclasses.replace(
            torch_layout.row(
                "torchvision",
                name,
                name,
                torch_layout.plan(torchvision_names),
                ("classifier.",),
                input=torch_layout.TORCHVISION_224,
            ),
            rename=torchvision_rename,
        )
        for name in ("densenet121", "densenet161", "densenet169", "densenet201")
    ),
    *(
        keras_layout.row(
            f"DenseNet{depth}",
            f"densenet{depth}",
            keras_applications_plan,
            ("predictions/",),
            input=KERAS_224,
        )
        for depth in (121, 169, 201)
    ),
)
# torchvision's DenseNet weights (pull/116: ported from the authors' Torch release) and
# keras.applications' (keras.io's accuracy table; the release's licence, BSD-3-Clause, as
# keras.applications states none).
_TORCHVISION_CARDS = (
    # model, file, top-1, top-5, params, GMACs, MB
    ("densenet121", "densenet121-a639ec97.pth", 74.434, 91.972, 7_978_856, 2.834, 30.845),
    ("densenet161", "densenet161-8d451a50.pth", 77.138, 93.56, 28_681_000, 7.728, 110.369),
    ("densenet169", "densenet169-b2777c0a.pth", 75.6, 92.806, 14_149_480, 3.36, 54.708),
    ("densenet201", "densenet201-c1103571.pth", 76.896, 93.37, 20_013_928, 4.291, 77.373),
)
_KERAS_CARDS = (
    # depth, md5 of the include_top file, top-1, top-5, MB, params
    (121, "9d60b8095a5708f2dcce2bca79d332c7", 75.0, 92.3, 33, 7_978_856),
    (169, "d699b8f76981ab1b30698df4c175e90b", 76.2, 93.2, 57, 14_149_480),
    (201, "1ceb130c1ea1b78c3bf6114dbdfd8807", 77.3, 93.6, 80, 20_013_928),
)
cards.register_cards(
    *(
        cards.torchvision_card(
            model, "IMAGENET1K_V1", file, top1, top5, params, gmacs, mb, 256, 224, "pull/116"
        )
        for model, file, top1, top5, params, gmacs, mb in _TORCHVISION_CARDS
    ),
    *(
        cards.keras_card(
            f"DenseNet{depth}",
            f"densenet/densenet{depth}_weights_tf_dim_ordering_tf_kernels.h5",
            md5,
            top1,
            top5,
            mb,
            "BSD-3-Clause (the DenseNet authors' release)",
            params,
        )
        for depth, md5, top1, top5, mb, params in _KERAS_CARDS
    ),
)
