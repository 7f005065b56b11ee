"""EfficientNet: Tan & Le, "EfficientNet: Rethinking Model Scaling for Convolutional Neural
Networks", ICML 2019, Table 1 (the B0 baseline), section 3.3 (compound scaling) and the
scaling rows of its release (tensorflow/tpu models/official/efficientnet/
efficientnet_builder.py); EfficientNet-Lite as the same release's lite/efficientnet_lite_builder.py.

B0's stages of mobile inverted bottlenecks (MBConv, MnasNet's block: MobileNetV2's inverted
residual with squeeze-and-excitation) are scaled by a row's width (channels x w, rounded to a
multiple of 8) and depth (a stage's repeats x d, rounded up). The Lite models remove SE, use
ReLU6 instead of SiLU (swish) and keep the stem, the head and the first and last stages'
repeats unscaled (fix_head_stem).

Layer names are keras.applications' (stem_conv, block{stage}{a, b, ...}_expand_conv, _dwconv,
_se, _project_conv, top_conv): its files convert by name, torchvision's efficientnet_b* and
timm's tf_efficientnet_* through name maps. Blocks reuse MobileNet's units
(keras_classics/models/mobilenet/units.py: the conv + BN units and the two padding
conventions).
"""

import dataclasses
import math

from keras_classics.models import _core, _heads
from keras_classics.models.mobilenet.units import (
    Convention,
    check_convention,
    check_dropout,
    conv_bn,
    make_divisible,
    mbconv,
)

PAPER = "Tan & Le 2019, EfficientNet, Table 1 and section 3.3"
LITE_PAPER = "Tan & Le 2019, EfficientNet; EfficientNet-Lite (tensorflow/tpu release)"


@dataclasses.dataclass(frozen=True)
class Stage:
    """A row of Table 1 (B0): MBConv{expansion}, k x k, channels, layers, first stride."""

    expansion: int
    kernel: int
    filters: int
    repeats: int
    stride: int


# Table 1: stage 1 is the 3x3 stem conv of 32, stage 9 the 1x1 conv of 1280 (STEM, TOP);
# stages 2-8 are these MBConv rows (operator, resolution, channels, layers).
STAGES = (
    Stage(1, 3, 16, 1, 1),
    Stage(6, 3, 24, 2, 2),
    Stage(6, 5, 40, 2, 2),
    Stage(6, 3, 80, 3, 2),
    Stage(6, 5, 112, 3, 1),
    Stage(6, 5, 192, 4, 2),
    Stage(6, 3, 320, 1, 1),
)
STEM = 32
TOP = 1280
# Eight stride-2 steps would need 256; keras.applications accepts 32 (a 1x1 final map).
MIN_SIZE = 32


@dataclasses.dataclass(frozen=True)
class Config:
    """One row of the compound-scaling table and the options of one build."""

    width: float  # channel multiplier w
    depth: float  # repeat multiplier d
    resolution: int  # the row's input side r
    dropout: float  # before the classifier
    lite: bool = False
    drop_path_rate: float = 0.0  # configure() sets the option's
    convention: str = "tf"
    bn_epsilon: float = 1e-3
    depths: tuple = ()  # each stage's repeats, when not the row's scaled ones


def round_filters(filters, width):
    """Section 3.3's width scaling as the release rounds it (efficientnet_model.py
    round_filters, keras.applications' and torchvision's too): the nearest multiple of 8 of
    filters x w, never below 90% of it."""
    return make_divisible(filters * width, 8)


def round_repeats(repeats, depth):
    """Section 3.3's depth scaling as the release rounds it: up (math.ceil)."""
    return int(math.ceil(repeats * depth))


def stage_repeats(config):
    """Each stage's blocks: the caller's `depths`, else Table 1's scaled by d (the Lite
    models keep the first and last stages' repeats, as the release's fix_head_stem)."""
    if config.depths:
        return config.depths
    last = len(STAGES) - 1
    return tuple(
        stage.repeats
        if config.lite and index in (0, last)
        else round_repeats(stage.repeats, config.depth)
        for index, stage in enumerate(STAGES)
    )


# The release's and keras.applications' BatchNormalization: momentum 0.99, epsilon 1e-3
# (section 5.2); torchvision's efficientnet_b0 ... b4 use torch's epsilon 1e-5 (its b5 ...
# b7, ported from TensorFlow, 1e-3): the `bn_epsilon` option. "tf": TensorFlow's 'same'
# padding (keras.applications' correct_pad zero padding + 'valid', timm's Conv2dSame), asymmetric
# when strided; "torch": k // 2 on every side (torchvision).
def convention_of(config):
    return Convention(config.convention, config.convention == "torch", config.bn_epsilon, 0.99)


def body(x, config):
    """Table 1 scaled: the 3x3/2 stem conv, seven stages of MBConv blocks, the 1x1 top conv
    (BN and SiLU after each conv; ReLU6 in Lite). Block i of N (counting from 0 over the whole
    network) has stochastic depth drop_path_rate x i / N, as the release, keras.applications,
    torchvision and timm."""
    convention = convention_of(config)
    act = "relu6" if config.lite else "silu"
    stem = STEM if config.lite else round_filters(STEM, config.width)
    x = conv_bn(x, stem, 3, 2, convention, "stem_conv", "stem_bn", act, "stem_activation")
    endpoints = {"stem": x}
    repeats = stage_repeats(config)
    total = sum(repeats)
    index = 0
    for number, (stage, count) in enumerate(zip(STAGES, repeats), start=1):
        filters = round_filters(stage.filters, config.width)
        for j in range(count):
            # SiLU after the expansion, the depthwise conv and in SE; Lite: ReLU6 and no SE.
            x = mbconv(
                x,
                expansion=stage.expansion,
                filters=filters,
                kernel=stage.kernel,
                stride=stage.stride if j == 0 else 1,
                convention=convention,
                act=act,
                se_act=None if config.lite else "silu",
                drop_rate=config.drop_path_rate * index / total,
                prefix=f"block{number}{chr(ord('a') + j)}_",
            )
            index += 1
        endpoints[f"block{number}"] = x
    top = TOP if config.lite else round_filters(TOP, config.width)
    endpoints["top"] = conv_bn(
        x, top, 1, 1, convention, "top_conv", "top_bn", act, "top_activation"
    )
    return endpoints


def configure(row, *, drop_path_rate, dropout, convention, bn_epsilon, depths):
    if (
        isinstance(drop_path_rate, bool)
        or not isinstance(drop_path_rate, (int, float))
        or not 0 <= drop_path_rate < 1
    ):
        raise ValueError(
            f"drop_path_rate={drop_path_rate!r} is invalid; accepted: a number in [0, 1)."
        )
    dropout = row.dropout if dropout is None else dropout
    check_dropout(dropout)
    if isinstance(bn_epsilon, bool) or not isinstance(bn_epsilon, float) or bn_epsilon <= 0:
        raise ValueError(
            f"bn_epsilon={bn_epsilon!r} is invalid; accepted: a positive float (1e-3: the "
            "release, keras.applications, timm, torchvision's b5-b7; 1e-5: torchvision's b0-b4)."
        )
    scaled = stage_repeats(row)
    config = dataclasses.replace(
        row,
        drop_path_rate=float(drop_path_rate),
        dropout=dropout,
        convention=check_convention(convention),
        bn_epsilon=bn_epsilon,
        depths=() if depths is None else _core.check_depths(depths, scaled),
    )
    steps = (_heads.GlobalPool("avg_pool"),)
    if dropout:
        steps += (_heads.Dropout(dropout, "top_dropout"),)
    return _core.Architecture(
        config, default_size=row.resolution, min_size=MIN_SIZE, head=_heads.Head(steps)
    )


# Section 5.2: stochastic depth with survival probability 0.8, the builders' default and the
# paper recipe's rate.
STOCHASTIC_DEPTH = 0.2
OPTIONS = (
    _core.Option(
        "drop_path_rate",
        STOCHASTIC_DEPTH,
        "Stochastic depth (section 5.2: survival probability 0.8; keras.applications' "
        "drop_connect_rate, timm's drop_path_rate): block i of N (from 0) drops its residual "
        "branch at drop_path_rate * i / N in training; 0 for none.",
    ),
    _core.Option(
        "dropout",
        None,
        "Dropout before the classifier; None for the row's (0.2 for B0 ... 0.5 for B7).",
    ),
    _core.Option(
        "convention",
        "tf",
        "\"tf\": TensorFlow 'same' padding (asymmetric when strided), as the release, "
        'keras.applications and timm\'s tf_efficientnet_*; "torch": symmetric padding, as '
        "torchvision's efficientnet_b*.",
    ),
    _core.Option(
        "bn_epsilon",
        1e-3,
        "BatchNormalization epsilon: 1e-3 as the release (section 5.2); torchvision's "
        "efficientnet_b0 ... b4 weights need 1e-5.",
    ),
    _core.Option(
        "depths",
        None,
        "Blocks in each of the seven MBConv stages (None: Table 1's scaled by the row's depth "
        "multiplier), e.g. (1, 1, 1, 1, 1, 1, 1).",
    ),
)


def summary(row):
    name = "EfficientNet-Lite" if row.lite else "EfficientNet"
    blocks = "MBConv blocks without SE, ReLU6" if row.lite else "MBConv blocks with SE, SiLU"
    return (
        f"{name}: width x{row.width}, depth x{row.depth} of B0 (Table 1), {blocks}; "
        f"stage repeats {stage_repeats(row)}.\n\n"
        f"{row.resolution}x{row.resolution} input, global average pooling head, dropout "
        f"{row.dropout}."
    )
