"""MobileNet v1: Howard et al. 2017, "MobileNets: Efficient Convolutional Neural Networks for
Mobile Vision Applications", Table 1 (the body), section 3.3 (width multiplier alpha and
resolution multiplier), Tables 6 and 7 (their accuracy).

Layer names are keras.applications' (conv1, conv_dw_1, conv_pw_1 ... conv_pw_13): its files
and timm's `mobilenetv1_100` convert by name.
"""

import dataclasses

from keras_classics.models import _core, _heads
from keras_classics.models.mobilenet.units import (
    Convention,
    check_alpha,
    check_convention,
    check_dropout,
    conv_bn,
    depthwise_bn,
)

# Table 1: conv1 3x3/2, 32; then 13 depthwise separable layers (dw 3x3 + pw 1x1), as
# (pointwise filters, depthwise stride); the 5 x (512, 1) row repeated.
LAYERS = (
    (64, 1),
    (128, 2),
    (128, 1),
    (256, 2),
    (256, 1),
    (512, 2),
    *((512, 1),) * 5,
    (1024, 2),
    (1024, 1),
)
STEM = 32
ALPHAS = (0.25, 0.5, 0.75, 1.0)

# keras.applications (and TF-slim's release): TF 'same' padding, BN epsilon 1e-3, Keras'
# default momentum 0.99. timm's `mobilenetv1_100` (torch): symmetric padding, epsilon 1e-5.
CONVENTIONS = {
    "tf": Convention("tf", False, 1e-3, 0.99),
    "torch": Convention("torch", True, 1e-5, 0.9),
}


@dataclasses.dataclass(frozen=True)
class Config:
    alpha: float = 1.0
    depth_multiplier: int = 1
    dropout: float = 1e-3
    convention: str = "tf"


def body(x, config):
    """conv1, then conv_dw_k + conv_pw_k for k = 1 ... 13 (Table 1), each conv + BN + ReLU6
    (Figure 3); widths int(filters * alpha) as the TF-slim and keras.applications releases."""
    convention = CONVENTIONS[config.convention]
    x = conv_bn(
        x, int(STEM * config.alpha), 3, 2, convention, "conv1", "conv1_bn", "relu6", "conv1_relu"
    )
    endpoints = {"conv1": x}
    for index, (filters, stride) in enumerate(LAYERS, start=1):
        name = f"conv_dw_{index}"
        x = depthwise_bn(
            x,
            3,
            stride,
            convention,
            name,
            f"{name}_bn",
            "relu6",
            f"{name}_relu",
            config.depth_multiplier,
        )
        name = f"conv_pw_{index}"
        x = conv_bn(
            x,
            int(filters * config.alpha),
            1,
            1,
            convention,
            name,
            f"{name}_bn",
            "relu6",
            f"{name}_relu",
        )
        endpoints[name] = x
    return endpoints


def configure(row, *, alpha, depth_multiplier, dropout, convention):
    check_alpha(alpha, ALPHAS)
    if (
        isinstance(depth_multiplier, bool)
        or not isinstance(depth_multiplier, int)
        or (depth_multiplier < 1)
    ):
        raise ValueError(
            f"depth_multiplier={depth_multiplier!r} is invalid; accepted: a positive integer."
        )
    check_dropout(dropout)
    config = dataclasses.replace(
        row,
        alpha=alpha,
        depth_multiplier=depth_multiplier,
        dropout=dropout,
        convention=check_convention(convention),
    )
    # 224x224 (Table 1); keras.applications' minimum 32.
    return _core.Architecture(
        config, default_size=224, min_size=32, head=_heads.pool_head(dropout=dropout)
    )


OPTIONS = (
    _core.Option(
        "alpha",
        1.0,
        "Width multiplier (section 4.2, Table 6): every layer's filters times alpha; the "
        "releases have 0.25, 0.5, 0.75 and 1.0.",
    ),
    _core.Option(
        "depth_multiplier",
        1,
        "Depthwise channel multiplier, as keras.applications' (the paper's resolution "
        "multiplier is the input size).",
    ),
    _core.Option("dropout", 1e-3, "Dropout before the classifier (keras.applications' default)."),
    _core.Option(
        "convention",
        "tf",
        "\"tf\": TensorFlow 'same' padding (asymmetric when strided) and BN epsilon 1e-3, as "
        'the TF-slim and keras.applications releases; "torch": symmetric padding and '
        "epsilon 1e-5, as timm's mobilenetv1_100.",
    ),
)


def summary(row):
    return (
        "MobileNet v1: a 3x3 conv and 13 depthwise separable layers (Table 1), width "
        "multiplier alpha.\n\n224x224 input, global average pooling head."
    )
