"""MobileNetV2: Sandler, Howard, Zhu, Zhmoginov & Chen, "MobileNetV2: Inverted Residuals and
Linear Bottlenecks", CVPR 2018, Table 1 (the bottleneck block), Table 2 (the body), section
6.1 (width multipliers).

Layer names are keras.applications' (Conv1, expanded_conv_*, block_1_* ... block_16_*,
Conv_1): its files convert by name, torchvision's `mobilenet_v2` through a name map.
"""

import dataclasses

import keras

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

# Table 2: rows (expansion t, output channels c, repeats n, stride s of the first).
BOTTLENECKS = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)
STEM = 32
LAST = 1280
ALPHAS = (0.35, 0.5, 0.75, 1.0, 1.3, 1.4)

# keras.applications (TF-slim's release): TF 'same' padding, BN epsilon 1e-3, momentum 0.999.
# torchvision: symmetric padding, epsilon 1e-5, torch's momentum 0.1.
CONVENTIONS = {
    "tf": Convention("tf", False, 1e-3, 0.999),
    "torch": Convention("torch", True, 1e-5, 0.9),
}


@dataclasses.dataclass(frozen=True)
class Config:
    alpha: float = 1.0
    dropout: float = 0.2
    convention: str = "tf"


def inverted_residual(x, expansion, filters, stride, convention, prefix):
    """Table 1: 1x1 expand (ReLU6; none for t = 1) -> 3x3 depthwise (ReLU6) -> 1x1 linear
    project; the input added where shapes agree (Figure 4b)."""
    inputs = x
    if expansion != 1:
        x = conv_bn(
            x,
            expansion * x.shape[-1],
            1,
            1,
            convention,
            f"{prefix}expand",
            f"{prefix}expand_BN",
            "relu6",
            f"{prefix}expand_relu",
        )
    x = depthwise_bn(
        x,
        3,
        stride,
        convention,
        f"{prefix}depthwise",
        f"{prefix}depthwise_BN",
        "relu6",
        f"{prefix}depthwise_relu",
    )
    x = conv_bn(x, filters, 1, 1, convention, f"{prefix}project", f"{prefix}project_BN", None, None)
    if stride == 1 and inputs.shape[-1] == filters:
        x = keras.layers.Add(name=f"{prefix}add")([inputs, x])
    return x


def body(x, config):
    """Conv1 3x3/2; 17 bottlenecks (Table 2); Conv_1 1x1, 1280. Widths as the releases:
    make_divisible(c * alpha, 8); the last conv widens only for alpha > 1 (section 6.1)."""
    convention = CONVENTIONS[config.convention]
    alpha = config.alpha
    x = conv_bn(
        x,
        make_divisible(STEM * alpha),
        3,
        2,
        convention,
        "Conv1",
        "bn_Conv1",
        "relu6",
        "Conv1_relu",
    )
    endpoints = {"Conv1": x}
    block = 0
    for expansion, channels, repeats, stride in BOTTLENECKS:
        filters = make_divisible(int(channels * alpha))
        for index in range(repeats):
            # keras.applications names the first block (no expansion) expanded_conv_.
            prefix = f"block_{block}_" if block else "expanded_conv_"
            x = inverted_residual(
                x, expansion, filters, stride if index == 0 else 1, convention, prefix
            )
            block += 1
        endpoints[prefix + "out"] = x
    last = make_divisible(LAST * alpha) if alpha > 1.0 else LAST
    endpoints["Conv_1"] = conv_bn(
        x, last, 1, 1, convention, "Conv_1", "Conv_1_bn", "relu6", "out_relu"
    )
    return endpoints


def configure(row, *, alpha, dropout, convention):
    check_alpha(alpha, ALPHAS)
    check_dropout(dropout)
    config = dataclasses.replace(
        row, alpha=alpha, dropout=dropout, convention=check_convention(convention)
    )
    # 224x224 (Table 2); keras.applications' minimum 32.
    return _core.Architecture(
        config, default_size=224, min_size=32, head=_heads.pool_head(dropout=dropout)
    )


OPTIONS = (
    _core.Option(
        "alpha",
        1.0,
        "Width multiplier (section 6.1): the releases have 0.35, 0.5, 0.75, 1.0, 1.3 and 1.4.",
    ),
    _core.Option(
        "dropout",
        0.2,
        "Dropout before the classifier (TF-slim's keep probability 0.8, torchvision's 0.2; "
        "keras.applications has none).",
    ),
    _core.Option(
        "convention",
        "tf",
        "\"tf\": TensorFlow 'same' padding (asymmetric when strided), BN epsilon 1e-3 and "
        'momentum 0.999, as the TF-slim and keras.applications releases; "torch": symmetric '
        "padding and epsilon 1e-5, as torchvision's mobilenet_v2.",
    ),
)


def summary(row):
    return (
        "MobileNetV2: a 3x3 conv, 17 inverted residual bottlenecks with linear projections "
        "(Table 2) and a 1x1 conv of 1280, width multiplier alpha.\n\n"
        "224x224 input, global average pooling head."
    )
