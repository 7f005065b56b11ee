"""MnasNet: Tan, Chen, Pang, Vasudevan, Sandler, Howard & Le, "MnasNet: Platform-Aware Neural
Architecture Search for Mobile", CVPR 2019, Figure 7 (MnasNet-A1) and Table 1; MnasNet-B1, the
search result of the authors' tensorflow/tpu release (models/official/mnasnet/mnasnet_models.py,
mnasnet_b1), at torchvision's widths 0.5, 0.75, 1.0 and 1.3 (torchvision's mnasnet.py).

The body is MobileNetV2's (Sandler et al. 2018): a 3x3 conv, a separable conv (SepConv,
Figure 7), then stages of inverted residual blocks (MBConv: 1x1 expand, k x k depthwise, [SE],
1x1 linear projection, the input added where shapes agree), a 1x1 conv of 1280 and the pooled
classifier. A1's squeeze-excitation (Figure 7; the search space's SE ratio 0.25, section
4.1) sits after the depthwise conv with a bottleneck of a quarter of the block's *input*
channels (the release's mnasnet_model.py: max(1, int(input_filters x se_ratio))), ReLU and a
sigmoid gate.

Layer names follow keras.applications' EfficientNet (the same MBConv blocks by the same
authors): stem_conv, block{stage}{a, b, ...}_{expand_conv, dwconv, se, project_conv, ...},
top_conv; stage 1 is the SepConv, stages 2 ... 7 the MBConv rows of Figure 7.
"""

import dataclasses
import re
import string

import keras

from keras_classics.models import _core, _heads
from keras_classics.models.mobilenet import weights as mobilenet_weights
from keras_classics.models.mobilenet.units import (
    Convention,
    check_dropout,
    conv_bn,
    depthwise_bn,
    make_divisible,
    mbconv,
)
from keras_classics.records.augmentation import Augmentation
from keras_classics.records.input_config import InputConfig
from keras_classics.records.recipe import Recipe
from keras_classics.records.registry import ReplicaCheck
from keras_classics.weights import cards, conversion, torch_layout

PAPER = "Tan et al. 2019, MnasNet, Figure 7"

# Padding as torchvision and timm (non-"tf_" models), whose weights convert here: k // 2 on
# every side (the release's TensorFlow 'same' pads a strided conv after only). BN epsilon
# 1e-5 as both (the release: 1e-3); momentum 0.99, the paper's BN decay (section 5) and the
# release's batch_norm_momentum. torchvision builds 0.9997 (torch's 1 - 0.9997, its comment
# "Paper suggests 0.9997"), timm torch's default (0.9 here): the weights do not depend on it.
CONVENTION = Convention("torch", True, 1e-5, 0.99)
STEM = 32
SEPCONV = 16  # stage 1's output channels (Figure 7: SepConv (k3x3), 112x112x16)
LAST = 1280  # the 1x1 conv before the pool, not scaled with the width (torchvision, timm)
# Five stride-2 steps (the stem and four strided stages): 32 gives a 1x1 final map.
MIN_SIZE = 32


@dataclasses.dataclass(frozen=True)
class Stage:
    """One MBConv row of Figure 7 (the release's block string r{repeats}_k{kernel}_s{stride}
    _e{expansion}_o{filters}[_se0.25])."""

    expansion: int
    filters: int
    repeats: int
    stride: int
    kernel: int
    se: bool = False


# Figure 7(a), MnasNet-A1: MBConv6 (k3x3) x2, MBConv3 (k5x5) SE x3, MBConv6 (k3x3) x4,
# MBConv6 (k3x3) SE x2, MBConv6 (k5x5) SE x3, MBConv6 (k3x3) x1 (the release's mnasnet_a1).
A1 = (
    Stage(6, 24, 2, 2, 3),
    Stage(3, 40, 3, 2, 5, se=True),
    Stage(6, 80, 4, 2, 3),
    Stage(6, 112, 2, 1, 3, se=True),
    Stage(6, 160, 3, 2, 5, se=True),
    Stage(6, 320, 1, 1, 3),
)
# MnasNet-B1, the release's mnasnet_b1 (= torchvision's MNASNet, timm's mnasnet_100): no SE.
B1 = (
    Stage(3, 24, 3, 2, 3),
    Stage(3, 40, 3, 2, 5),
    Stage(6, 80, 3, 2, 5),
    Stage(6, 96, 2, 1, 3),
    Stage(6, 192, 4, 2, 5),
    Stage(6, 320, 1, 1, 3),
)


@dataclasses.dataclass(frozen=True)
class Config:
    """One MnasNet: its stages, its width and the options of one build."""

    stages: tuple
    alpha: float = 1.0  # the depth multiplier of every width but the last conv's
    depths: tuple = None  # blocks per MBConv stage; None: the stages' repeats
    dropout: float = 0.2


def width(channels, alpha):
    """torchvision's _round_to_multiple_of(channels x alpha, 8, 0.9) (= timm's round_channels,
    the release's round_filters): the nearest multiple of 8, never below 90%."""
    return make_divisible(channels * alpha)


def relu(name):
    return keras.layers.ReLU(name=name)


def sepconv(x, filters, prefix):
    """Figure 7's SepConv (k3x3): 3x3 depthwise + BN + ReLU, 1x1 linear projection + BN (no
    residual: the release's noskip)."""
    x = depthwise_bn(
        x, 3, 1, CONVENTION, f"{prefix}dwconv", f"{prefix}bn", "relu", f"{prefix}activation"
    )
    return conv_bn(
        x, filters, 1, 1, CONVENTION, f"{prefix}project_conv", f"{prefix}project_bn", None, None
    )


def body(x, config):
    """Figure 7: conv 3x3/2 (32 x alpha, ReLU), SepConv (16 x alpha), the six MBConv stages,
    then a 1x1 conv of 1280 (ReLU) before the pooled classifier (the release's and
    torchvision's head; the figure draws pooling and FC only)."""
    alpha = config.alpha
    x = conv_bn(
        x, width(STEM, alpha), 3, 2, CONVENTION, "stem_conv", "stem_bn", "relu", "stem_activation"
    )
    endpoints = {"stem": x}
    x = sepconv(x, width(SEPCONV, alpha), "block1a_")
    endpoints["block1"] = x
    for number, (stage, depth) in enumerate(zip(config.stages, config.depths), start=2):
        filters = width(stage.filters, alpha)
        for index in range(depth):
            stride = stage.stride if index == 0 else 1
            prefix = f"block{number}{string.ascii_lowercase[index]}_"
            # Figure 7's MBConv: ReLU after the expansion and the depthwise conv, ReLU in SE.
            x = mbconv(
                x,
                expansion=stage.expansion,
                filters=filters,
                kernel=stage.kernel,
                stride=stride,
                convention=CONVENTION,
                act="relu",
                se_act="relu" if stage.se else None,
                drop_rate=0.0,
                prefix=prefix,
            )
        endpoints[f"block{number}"] = x
    endpoints["top"] = conv_bn(
        x, LAST, 1, 1, CONVENTION, "top_conv", "top_bn", "relu", "top_activation"
    )
    return endpoints


def configure(row, *, depths, dropout):
    depths = _core.check_depths(depths, tuple(s.repeats for s in row.stages))
    check_dropout(dropout)
    config = dataclasses.replace(row, depths=depths, dropout=dropout)
    # 224x224 (Table 1); the pooled head with the release's dropout 0.2 (torchvision's too).
    return _core.Architecture(
        config, default_size=224, min_size=MIN_SIZE, head=_heads.pool_head(dropout=dropout)
    )


OPTIONS = (
    _core.Option(
        "depths",
        None,
        "Blocks in each of the six MBConv stages (Figure 7's x2, x3 ...; the row's when "
        "None), e.g. (1, 1, 1, 1, 1, 1).",
    ),
    _core.Option(
        "dropout",
        0.2,
        "Dropout before the classifier (the release's dropout_rate and torchvision's 0.2).",
    ),
)


def summary(row):
    kind = "A1, with squeeze-excitation" if row.stages == A1 else "B1, without SE"
    return (
        f"MnasNet-{kind}, depth multiplier {row.alpha}: a 3x3 conv, a separable conv, "
        f"{sum(s.repeats for s in row.stages)} inverted residual blocks in six stages and a "
        f"1x1 conv of {LAST}.\n\n224x224 input, global average pooling head."
    )


# --- training: section 5 and the release (mnasnet_main.py, mnasnet_utils.py, configs/) ------

# Section 5: RMSProp with decay 0.9 and momentum 0.9, BN momentum 0.99, weight decay 1e-5,
# dropout 0.2 on the last layer, the LR warmed up from 0 to 0.256 over 5 epochs then decayed by
# 0.97 every 2.4 epochs, batch 4K, Inception preprocessing at 224. The release
# (configs/mnasnet_config.py) trains at batch 1024 with base_learning_rate 0.016 per 256
# images (0.064: the paper's 0.256 at 4096, scaled), 437,898 steps (350 epochs of 1,281,167
# images), label smoothing 0.1, an EMA of the weights with decay 0.9999, RMSProp epsilon 1e-3
# (mnasnet_utils.build_optimizer), and decays no BatchNormalization variable (mnasnet_main.py;
# decay_norm_and_bias=False here also spares the SE and classifier biases).
RECIPE = Recipe(
    "Tan et al. 2019, section 5; the tensorflow/tpu release's mnasnet_config.py",
    "rmsprop",
    0.064,
    1024,
    350,
    "exponential",
    1e-5,
    decay_rate=0.97,
    decay_epochs=2.4,
    decay_norm_and_bias=False,
    label_smoothing=0.1,
    rmsprop_epsilon=1e-3,
    warmup_epochs=5,
    ema_decay=0.9999,
    bn_momentum=0.99,
)
# Section 5: "Inception preprocessing": the release's preprocessing.py crops a window of
# 8%-100% of the area at an aspect of 3/4-4/3 (distorted_bounding_box_crop), resizes it to 224
# and flips it, without colour distortion.
AUGMENTATION = Augmentation(
    "mnasnet", "Tan et al. 2019, section 5; the tensorflow/tpu release's preprocessing.py", "area"
)
FAMILY = _core.Family(
    "mnasnet",
    PAPER,
    configure,
    body,
    OPTIONS,
    mode="torch",
    describe=summary,
    augmentation=AUGMENTATION,
    recipe=RECIPE,
)
# B1 is the release's, not a figure of the paper.
RELEASE = dataclasses.replace(
    FAMILY, paper="Tan et al. 2019, MnasNet-B1 of the tensorflow/tpu release (mnasnet_models.py)"
)

MnasNetA1 = FAMILY.register("mnasnet_a1", "MnasNetA1", Config(A1))
# torchvision's MNASNet(alpha): B1 at depth multiplier 0.5, 0.75, 1.0 and 1.3.
MnasNet0_5 = RELEASE.register(
    "mnasnet0_5",
    "MnasNet0_5",
    Config(B1, 0.5),
    # Replica equivalence in float64 (BN, as ResNet-18's) at the smallest input, one block a
    # stage but two in stage 2: the SepConv, the strided and the stride-1 MBConvs without a
    # residual, and a residual one (stage 2's second), at a cost the CI bears (about a
    # minute). Five steps: worst relative difference 8.6e-8 (measured on a shared 2-core AMD
    # EPYC), none of MobileNetV2's growth.
    replica_check=ReplicaCheck(32, builder_options=(("depths", (2, 1, 1, 1, 1, 1)),)),
)
MnasNet0_75 = RELEASE.register("mnasnet0_75", "MnasNet0_75", Config(B1, 0.75))
MnasNet1_0 = RELEASE.register("mnasnet1_0", "MnasNet1_0", Config(B1, 1.0))
MnasNet1_3 = RELEASE.register("mnasnet1_3", "MnasNet1_3", Config(B1, 1.3))

# --- pretrained weights: torchvision's and timm's (keras_classics/weights) ------------------

_BLOCK = re.compile(r"block(\d)([a-z])_(\w+)")
# Our units of a block -> the modules of torchvision's _InvertedResidual.layers (its Sequential
# indices; 2 and 5 are ReLUs) and of timm's InvertedResidual.
_TORCHVISION_UNITS = {
    "expand_conv": 0,
    "expand_bn": 1,
    "dwconv": 3,
    "bn": 4,
    "project_conv": 6,
    "project_bn": 7,
}
_TIMM_UNITS = {
    "expand_conv": "conv_pw",
    "expand_bn": "bn1",
    "dwconv": "conv_dw",
    "bn": "bn2",
    "se": ("se.conv_reduce", "se.conv_expand"),
    "project_conv": "conv_pwl",
    "project_bn": "bn3",
}
# Stage 1, the SepConv: torchvision's layers.3 ... 7 of its stem, timm's DepthwiseSeparableConv.
_TORCHVISION_SEPCONV = {"dwconv": 3, "bn": 4, "project_conv": 6, "project_bn": 7}
_TIMM_SEPCONV = {"dwconv": "conv_dw", "bn": "bn1", "project_conv": "conv_pw", "project_bn": "bn2"}


def _split(name):
    """(stage, block index, unit) of a block layer's name, or None."""
    match = _BLOCK.fullmatch(name)
    if not match:
        return None
    stage, letter, unit = match.groups()
    return int(stage), ord(letter) - ord("a"), unit


def torchvision_module(name):
    """torchvision's MNASNet module of our layer: the stem conv and SepConv are layers.0 ...
    7, MBConv stage s (2 ... 7) is layers.{s + 6}, block i's units layers.{s + 6}.{i}.layers.
    {0 ... 7}, the 1x1 conv of 1280 layers.14 and 15, the classifier classifier.1."""
    fixed = {
        "stem_conv": "layers.0",
        "stem_bn": "layers.1",
        "top_conv": "layers.14",
        "top_bn": "layers.15",
        "predictions": "classifier.1",
    }
    if name in fixed:
        return fixed[name]
    stage, index, unit = _split(name)
    if stage == 1:
        return f"layers.{_TORCHVISION_SEPCONV[unit]}"
    return f"layers.{stage + 6}.{index}.layers.{_TORCHVISION_UNITS[unit]}"


def timm_module(name):
    """timm's EfficientNet module of our layer: conv_stem, bn1, blocks.{stage - 1}.{i}.<unit>,
    conv_head, bn2, classifier (an SE layer: its conv_reduce and conv_expand pair)."""
    fixed = {
        "stem_conv": "conv_stem",
        "stem_bn": "bn1",
        "top_conv": "conv_head",
        "top_bn": "bn2",
        "predictions": "classifier",
    }
    if name in fixed:
        return fixed[name]
    stage, index, unit = _split(name)
    module = (_TIMM_SEPCONV if stage == 1 else _TIMM_UNITS)[unit]
    prefix = f"blocks.{stage - 1}.{index}."
    if isinstance(module, tuple):
        return tuple(prefix + m for m in module)
    return prefix + module


def _names(module):
    def names(model):
        return {layer.name: module(layer.name) for layer in model.layers if layer.weights}

    return names


TORCHVISION_PLAN = mobilenet_weights.torch_plan(_names(torchvision_module))
TIMM_PLAN = mobilenet_weights.torch_plan(_names(timm_module))
# timm's pretrained configs: ImageNet mean/std, 224, crop 0.875, bicubic.
TIMM_224 = InputConfig("torch", 224, 0.875, "bicubic")
conversion.register_conversions(
    *(
        torch_layout.row(
            "torchvision",
            name,
            name,
            TORCHVISION_PLAN,
            ("classifier.",),
            input=torch_layout.TORCHVISION_224,
        )
        for name in ("mnasnet0_5", "mnasnet0_75", "mnasnet1_0", "mnasnet1_3")
    ),
    torch_layout.row(
        "timm", "semnasnet_100", "mnasnet_a1", TIMM_PLAN, ("classifier.",), input=TIMM_224
    ),
    # timm's mnasnet_100 is torchvision's mnasnet1_0 (the same B1 at width 1.0, the same count).
    torch_layout.row(
        "timm", "mnasnet_100", "mnasnet1_0", TIMM_PLAN, ("classifier.",), input=TIMM_224
    ),
)


def _trainer(card):
    # torchvision's 0.5 and 1.0 weights were trained with its contributor's recipe, outside
    # torchvision's repository (the Weights meta "recipe").
    return dataclasses.replace(card, recipe="https://github.com/1e100/mnasnet_trainer")


# torchvision's MNASNet*_Weights (IMAGENET1K_V1: url, acc@1/acc@5, num_params, _ops,
# _file_size, the preset's resize and crop); timm's results-imagenet.csv at 224.
cards.register_cards(
    _trainer(
        cards.torchvision_card(
            "mnasnet0_5",
            "IMAGENET1K_V1",
            "mnasnet0.5_top1_67.823-3ffadce67e.pth",
            67.734,
            87.490,
            2_218_512,
            0.104,
            8.591,
            256,
            224,
            "",
        )
    ),
    cards.torchvision_card(
        "mnasnet0_75",
        "IMAGENET1K_V1",
        "mnasnet0_75-7090bc5f.pth",
        71.180,
        90.496,
        3_170_208,
        0.215,
        12.303,
        232,
        224,
        "pull/6019",
    ),
    _trainer(
        cards.torchvision_card(
            "mnasnet1_0",
            "IMAGENET1K_V1",
            "mnasnet1.0_top1_73.512-f206786ef8.pth",
            73.456,
            91.510,
            4_383_312,
            0.314,
            16.915,
            256,
            224,
            "",
        )
    ),
    cards.torchvision_card(
        "mnasnet1_3",
        "IMAGENET1K_V1",
        "mnasnet1_3-a4c69d6f.pth",
        76.506,
        93.522,
        6_282_256,
        0.526,
        24.246,
        232,
        224,
        "pull/6019",
    ),
    cards.timm_card(
        "semnasnet_100.rmsp_in1k", 75.452, 92.608, 224, 0.875, "bicubic", "apache-2.0", 3_887_038
    ),
    cards.timm_card(
        "mnasnet_100.rmsp_in1k", 74.672, 92.108, 224, 0.875, "bicubic", "apache-2.0", 4_383_312
    ),
)
