"""MobileNetV3: Howard, Sandler, Chu, Chen, Chen, Tan, Wang, Zhu, Pang, Vasudevan, Le & Adam,
"Searching for MobileNetV3", ICCV 2019, Table 1 (Large), Table 2 (Small), section 5.2
(hard-swish, SE with hard-sigmoid), section 5.3 (the efficient last stage), section 6.1
(the minimalistic models: 3x3 kernels, ReLU, no SE).

Layer names are keras.applications' (conv, expanded_conv_*, conv_1, conv_2): its files convert
by name, torchvision's `mobilenet_v3_large` / `_small` through a name map.
"""

import dataclasses

import keras

from keras_classics.layers.squeeze_excite import SqueezeExcite
from keras_classics.models import _core, _heads
from keras_classics.models.mobilenet.units import (
    Convention,
    check_alpha,
    check_convention,
    check_dropout,
    conv_bn,
    depthwise_bn,
    make_divisible,
)

# Rows of Tables 1 and 2: (kernel, expansion size, output channels, SE, nonlinearity,
# stride); "RE" ReLU, "HS" hard-swish.
LARGE = (
    (3, 16, 16, False, "RE", 1),
    (3, 64, 24, False, "RE", 2),
    (3, 72, 24, False, "RE", 1),
    (5, 72, 40, True, "RE", 2),
    (5, 120, 40, True, "RE", 1),
    (5, 120, 40, True, "RE", 1),
    (3, 240, 80, False, "HS", 2),
    (3, 200, 80, False, "HS", 1),
    (3, 184, 80, False, "HS", 1),
    (3, 184, 80, False, "HS", 1),
    (3, 480, 112, True, "HS", 1),
    (3, 672, 112, True, "HS", 1),
    (5, 672, 160, True, "HS", 2),
    (5, 960, 160, True, "HS", 1),
    (5, 960, 160, True, "HS", 1),
)
SMALL = (
    (3, 16, 16, True, "RE", 2),
    (3, 72, 24, False, "RE", 2),
    (3, 88, 24, False, "RE", 1),
    (5, 96, 40, True, "HS", 2),
    (5, 240, 40, True, "HS", 1),
    (5, 240, 40, True, "HS", 1),
    (5, 120, 48, True, "HS", 1),
    (5, 144, 48, True, "HS", 1),
    (5, 288, 96, True, "HS", 2),
    (5, 576, 96, True, "HS", 1),
    (5, 576, 96, True, "HS", 1),
)
STEM = 16
ALPHAS = (0.75, 1.0)
NONLINEARITY = {"RE": "relu", "HS": "hard_swish"}

# keras.applications (the TF release): TF 'same' padding, BN epsilon 1e-3. Momentum 0.99 is
# the paper's BN decay (section 6.1; keras.applications builds 0.999, torchvision 0.99).
# torchvision: symmetric padding, the same epsilon.
CONVENTIONS = {
    "tf": Convention("tf", False, 1e-3, 0.99),
    "torch": Convention("torch", True, 1e-3, 0.99),
}


@dataclasses.dataclass(frozen=True)
class Config:
    blocks: tuple
    head: int  # the 1x1 conv after pooling (Table 1: 1280, Table 2: 1024)
    alpha: float = 1.0
    minimalistic: bool = False
    dropout: float = 0.2
    convention: str = "tf"


def bottleneck(x, kernel, ratio, filters, se, act, stride, convention, prefix):
    """MobileNetV2's inverted residual (Figure 4) with SE after the depthwise conv (section
    5.3): 1x1 expand (none where the table's expansion equals its input) -> k x k depthwise
    -> [SE] -> 1x1 linear project [+ input].

    The expansion is make_divisible(input channels * ratio), the table's expansion over its
    input (keras.applications' rule, which scales with alpha); the SE bottleneck
    make_divisible(expansion / 4, 8) with ReLU and hard-sigmoid (section 5.3).
    """
    inputs = x
    in_channels = x.shape[-1]
    if ratio != 1:
        x = conv_bn(
            x,
            make_divisible(in_channels * ratio),
            1,
            1,
            convention,
            f"{prefix}expand",
            f"{prefix}expand_bn",
            act,
            f"{prefix}expand_act",
        )
    x = depthwise_bn(
        x,
        kernel,
        stride,
        convention,
        f"{prefix}depthwise",
        f"{prefix}depthwise_bn",
        act,
        f"{prefix}depthwise_act",
    )
    if se:
        x = SqueezeExcite(
            make_divisible(x.shape[-1] / 4),
            activation="relu",
            gate="hard_sigmoid",
            name=f"{prefix}squeeze_excite",
        )(x)
    x = conv_bn(x, filters, 1, 1, convention, f"{prefix}project", f"{prefix}project_bn", None, None)
    if stride == 1 and in_channels == filters:
        x = keras.layers.Add(name=f"{prefix}add")([inputs, x])
    return x


def body(x, config):
    """conv 3x3/2, 16 (hard-swish); the table's bottlenecks; conv_1 1x1 of 6x the last
    block's width (Tables 1 and 2: 960, 576). The minimalistic models (section 6.1) use 3x3
    kernels, ReLU and no SE throughout."""
    convention = CONVENTIONS[config.convention]
    stem_act = "relu" if config.minimalistic else "hard_swish"
    x = conv_bn(x, STEM, 3, 2, convention, "conv", "conv_bn", stem_act, "conv_act")
    endpoints = {"conv": x}
    table_in = STEM
    for index, (kernel, expanded, filters, se, nonlinearity, stride) in enumerate(config.blocks):
        act = NONLINEARITY[nonlinearity]
        if config.minimalistic:
            kernel, se, act = 3, False, "relu"
        prefix = f"expanded_conv_{index}_" if index else "expanded_conv_"
        x = bottleneck(
            x,
            kernel,
            expanded / table_in,
            make_divisible(filters * config.alpha),
            se,
            act,
            stride,
            convention,
            prefix,
        )
        table_in = filters
        endpoints[prefix + "out"] = x
    endpoints["conv_1"] = conv_bn(
        x,
        make_divisible(x.shape[-1] * 6),
        1,
        1,
        convention,
        "conv_1",
        "conv_1_bn",
        stem_act,
        "conv_1_act",
    )
    return endpoints


def configure(row, *, alpha, minimalistic, dropout, convention):
    check_alpha(alpha, ALPHAS)
    if not isinstance(minimalistic, bool):
        raise ValueError(f"minimalistic={minimalistic!r} is invalid; accepted: True or False.")
    check_dropout(dropout)
    config = dataclasses.replace(
        row,
        alpha=alpha,
        minimalistic=minimalistic,
        dropout=dropout,
        convention=check_convention(convention),
    )
    # Tables 1 and 2: after the pool, a 1x1 conv without BN (1280 or 1024, widened only for
    # alpha > 1 as keras.applications) with hard-swish (ReLU when minimalistic), dropout
    # (section 6.1: keep probability 0.8), the classifier. A Dense on the pooled vector is
    # that 1x1 conv.
    units = make_divisible(row.head * alpha) if alpha > 1.0 else row.head
    steps = (
        _heads.GlobalPool("avg_pool"),
        _heads.FC(units, "conv_2", "relu" if minimalistic else "hard_swish"),
    )
    if dropout:
        steps += (_heads.Dropout(dropout, "conv_2_drop"),)
    # 224x224 (Tables 1, 2); keras.applications' minimum 32.
    return _core.Architecture(config, default_size=224, min_size=32, head=_heads.Head(steps))


OPTIONS = (
    _core.Option(
        "alpha",
        1.0,
        "Width multiplier (section 6.1.2, Table 3): the releases have 0.75 and 1.0.",
    ),
    _core.Option(
        "minimalistic",
        False,
        "Section 6.1's minimalistic models: 3x3 kernels, ReLU and no SE throughout "
        "(keras.applications' option; the TF release's *_minimalistic checkpoints).",
    ),
    _core.Option(
        "dropout",
        0.2,
        "Dropout before the classifier (section 6.1: keep probability 0.8; "
        "keras.applications' dropout_rate).",
    ),
    _core.Option(
        "convention",
        "tf",
        "\"tf\": TensorFlow 'same' padding (asymmetric when strided), as the TF and "
        'keras.applications releases; "torch": symmetric padding, as torchvision\'s '
        "mobilenet_v3_large / _small (BN epsilon 1e-3 in both).",
    ),
)


def summary(row):
    size = "Large" if row.blocks == LARGE else "Small"
    return (
        f"MobileNetV3-{size}: a 3x3 conv, {len(row.blocks)} bottlenecks with SE and "
        "hard-swish (Table " + ("1" if size == "Large" else "2") + "), a 1x1 conv of "
        f"{6 * row.blocks[-1][2]}, pooling, a 1x1 conv of {row.head}.\n\n"
        "224x224 input, global average pooling head."
    )
