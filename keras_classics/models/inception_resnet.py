"""Inception-ResNet-v1 and -v2: Szegedy, Ioffe, Vanhoucke & Alemi, "Inception-v4,
Inception-ResNet and the Impact of Residual Connections on Learning", AAAI 2017, section 3.2,
Figures 7 and 10-19, Table 1.

A residual Inception block concatenates its branches, projects them with a linear 1x1 conv
(bias, no BN: "1x1 Conv ... Linear") to the trunk's width, scales the result (section 3.3) and
adds it to its input, then ReLU. "We used batch-normalization only on top of the traditional
layers, but not on top of the summations" (section 3.2).

One builder, two table rows:
- inception_resnet_v1: the paper's Figures 14 (stem), 10, 7, 11, 12, 13; 5/10/5 blocks
  (Figure 15); no released model exists.
- inception_resnet_v2: the authors' release (TF-slim inception_resnet_v2, keras.applications,
  timm): Figures 16-19 blocks with trunk widths 320/1088/2080, the Inception-v3-like stem with a
  35x35 Inception module (mixed_5b) where Figure 15 has the Inception-v4 stem, 10/20/10 blocks
  where the schema shows 5/10/5 (`depths=(5, 10, 5)`), a last 8x8 block without scaling or
  ReLU, and a final 1x1 conv to 1536 channels.

Layer names follow the release (block35_1, mixed_6a, block17_1, mixed_7a, block8_1,
conv_7b_1x1): the stage is the grid (35, 17, 8) a block works on.
"""

import dataclasses
import re
from typing import Optional

import keras

from keras_classics.layers import ScaledResidual
from keras_classics.models import _core, _heads, _inception
from keras_classics.models._inception import Conv, ConvStyle, Pool
from keras_classics.models.inception_v4 import reduction_a
from keras_classics.records.input_config import InputConfig
from keras_classics.weights import cards, conversion, keras_layout, torch_layout

PAPER = "Szegedy et al. 2017, Inception-v4, Inception-ResNet, Figures 7, 10-19"

# BN with scale, eps 1e-3, as timm's inception_resnet_v2 (55,843,464 trainable parameters);
# TF-slim and keras.applications drop BN's gamma (55,813,192): option bn_scale=False.
STYLE = ConvStyle(batch_norm=True, scale=True, epsilon=1e-3)
DROPOUT = 0.2  # Figure 15: "Dropout (keep 0.8)".
V = "valid"
# The paper: scale factors "between 0.1 and 0.3". The authors' release uses 0.17 (35x35),
# 0.10 (17x17) and 0.20 (8x8); with no Inception-ResNet-v1 release, v1 uses the same.
SCALES = (0.17, 0.10, 0.20)


def block_a_v1():
    """Figure 10 (35x35x256): 1x1 32 | 1x1 32 -> 3x3 32 | 1x1 32 -> 3x3 32 -> 3x3 32."""
    return ((Conv(32, 1),), (Conv(32, 1), Conv(32, 3)), (Conv(32, 1), Conv(32, 3), Conv(32, 3)))


def block_b_v1():
    """Figure 11 (17x17x896): 1x1 128 | 1x1 128 -> 1x7 128 -> 7x1 128."""
    return ((Conv(128, 1),), (Conv(128, 1), Conv(128, (1, 7)), Conv(128, (7, 1))))


def block_c_v1():
    """Figure 13 (8x8x1792): 1x1 192 | 1x1 192 -> 1x3 192 -> 3x1 192."""
    return ((Conv(192, 1),), (Conv(192, 1), Conv(192, (1, 3)), Conv(192, (3, 1))))


def reduction_b_v1():
    """Figure 12 (17x17x896 -> 8x8x1792): 1x1 256 -> 3x3/2 384 (V) | 1x1 256 -> 3x3/2 256 (V) |
    1x1 256 -> 3x3 256 -> 3x3/2 256 (V) | 3x3/2 max pool (V)."""
    return (
        (Conv(256, 1), Conv(384, 3, stride=2, padding=V)),
        (Conv(256, 1), Conv(256, 3, stride=2, padding=V)),
        (Conv(256, 1), Conv(256, 3), Conv(256, 3, stride=2, padding=V)),
        (Pool("max", stride=2, padding=V),),
    )


def block_a_v2():
    """Figure 16: 1x1 32 | 1x1 32 -> 3x3 32 | 1x1 32 -> 3x3 48 -> 3x3 64."""
    return ((Conv(32, 1),), (Conv(32, 1), Conv(32, 3)), (Conv(32, 1), Conv(48, 3), Conv(64, 3)))


def block_b_v2():
    """Figure 17: 1x1 192 | 1x1 128 -> 1x7 160 -> 7x1 192."""
    return ((Conv(192, 1),), (Conv(128, 1), Conv(160, (1, 7)), Conv(192, (7, 1))))


def block_c_v2():
    """Figure 19: 1x1 192 | 1x1 192 -> 1x3 224 -> 3x1 256."""
    return ((Conv(192, 1),), (Conv(192, 1), Conv(224, (1, 3)), Conv(256, (3, 1))))


def reduction_b_v2():
    """Figure 18: 1x1 256 -> 3x3/2 384 (V) | 1x1 256 -> 3x3/2 288 (V) |
    1x1 256 -> 3x3 288 -> 3x3/2 320 (V) | 3x3/2 max pool (V)."""
    return (
        (Conv(256, 1), Conv(384, 3, stride=2, padding=V)),
        (Conv(256, 1), Conv(288, 3, stride=2, padding=V)),
        (Conv(256, 1), Conv(288, 3), Conv(320, 3, stride=2, padding=V)),
        (Pool("max", stride=2, padding=V),),
    )


def mixed_5b():
    """The release's 35x35 Inception module after the stem (192 -> 320 channels):
    1x1 96 | 1x1 48 -> 5x5 64 | 1x1 64 -> 3x3 96 -> 3x3 96 | avg pool -> 1x1 64."""
    return (
        (Conv(96, 1),),
        (Conv(48, 1), Conv(64, 5)),
        (Conv(64, 1), Conv(96, 3), Conv(96, 3)),
        (Pool("avg"), Conv(64, 1)),
    )


# Stems as data: (name, Conv | Pool | branches of a module).
STEM_V1 = (  # Figure 14
    ("conv_1a_3x3", Conv(32, 3, stride=2, padding=V)),  # 149x149x32
    ("conv_2a_3x3", Conv(32, 3, padding=V)),  # 147x147x32
    ("conv_2b_3x3", Conv(64, 3)),  # 147x147x64
    ("pool_3a_3x3", Pool("max", stride=2, padding=V)),  # 73x73x64
    ("conv_3b_1x1", Conv(80, 1)),  # 73x73x80
    ("conv_4a_3x3", Conv(192, 3, padding=V)),  # 71x71x192
    ("conv_4b_3x3", Conv(256, 3, stride=2, padding=V)),  # 35x35x256
)
STEM_V2_RELEASE = (  # TF-slim inception_resnet_v2
    ("conv_1a_3x3", Conv(32, 3, stride=2, padding=V)),  # 149x149x32
    ("conv_2a_3x3", Conv(32, 3, padding=V)),  # 147x147x32
    ("conv_2b_3x3", Conv(64, 3)),  # 147x147x64
    ("pool_3a_3x3", Pool("max", stride=2, padding=V)),  # 73x73x64
    ("conv_3b_1x1", Conv(80, 1, padding=V)),  # 73x73x80
    ("conv_4a_3x3", Conv(192, 3, padding=V)),  # 71x71x192
    ("pool_5a_3x3", Pool("max", stride=2, padding=V)),  # 35x35x192
    ("mixed_5b", mixed_5b()),  # 35x35x320
)


@dataclasses.dataclass(frozen=True)
class Config:
    """One Inception-ResNet: stem, the three block kinds with their trunk widths, reductions."""

    stem: tuple
    blocks: tuple  # (branches of the 35x35, 17x17, 8x8 blocks)
    widths: tuple  # trunk channels at 35x35, 17x17, 8x8
    reduction_a: tuple  # Table 1's k, l, m, n
    reduction_b: tuple
    depths: tuple  # blocks per grid
    final_conv: Optional[int] = None
    last_block_linear: bool = False
    style: ConvStyle = STYLE  # with the builder's options (configure)


CONFIGS = {
    "v1": Config(
        stem=STEM_V1,
        blocks=(block_a_v1(), block_b_v1(), block_c_v1()),
        widths=(256, 896, 1792),
        reduction_a=(192, 192, 256, 384),
        reduction_b=reduction_b_v1(),
        depths=(5, 10, 5),
    ),
    "v2": Config(
        stem=STEM_V2_RELEASE,
        blocks=(block_a_v2(), block_b_v2(), block_c_v2()),
        widths=(320, 1088, 2080),
        reduction_a=(256, 256, 384, 384),
        reduction_b=reduction_b_v2(),
        depths=(10, 20, 10),
        final_conv=1536,
        last_block_linear=True,
    ),
}
GRIDS = (35, 17, 8)


def residual_block(x, branches, width, scale, name, style, activation=True):
    """Figures 10/11/13, 16/17/19: x + scale * Linear1x1(concat(branches)) [-> ReLU]."""
    r = _inception.module(x, branches, name, style, concat_name=f"{name}_concat")
    r = keras.layers.Conv2D(width, 1, name=f"{name}_up_conv")(r)
    x = ScaledResidual(scale, name=f"{name}_add")([x, r])
    if not activation:
        return keras.layers.Identity(name=name)(x)
    return keras.layers.ReLU(name=name)(x)


def body(x, config):
    endpoints = {}
    for layer_name, op in config.stem:
        if isinstance(op, Conv):
            x = _inception.conv_unit(x, op, layer_name, config.style)
        elif isinstance(op, Pool):
            x = _inception.pool(x, op, layer_name, config.style)
        else:
            x = _inception.module(x, op, layer_name, config.style)
        endpoints[layer_name] = x
    reductions = {
        0: ("mixed_6a", reduction_a(*config.reduction_a)),
        1: ("mixed_7a", config.reduction_b),
    }
    for stage, (branches, width, depth, scale, grid) in enumerate(
        zip(config.blocks, config.widths, config.depths, SCALES, GRIDS)
    ):
        for index in range(1, depth + 1):
            # The release's last 8x8 block adds unscaled and has no ReLU (block8 with
            # scale=1.0, activation_fn=None in TF-slim).
            linear = config.last_block_linear and stage == 2 and index == depth
            x = endpoints[f"block{grid}_{index}"] = residual_block(
                x,
                branches,
                width,
                1.0 if linear else scale,
                f"block{grid}_{index}",
                config.style,
                activation=not linear,
            )
        if stage in reductions:
            module_name, reduction = reductions[stage]
            x = endpoints[module_name] = _inception.module(x, reduction, module_name, config.style)
    if config.final_conv:
        x = endpoints["conv_7b_1x1"] = _inception.conv_unit(
            x, Conv(config.final_conv, 1), "conv_7b_1x1", config.style
        )
    return endpoints


def configure(row, *, depths, bn_scale):
    style = _inception.with_options(STYLE, bn_scale=bn_scale)
    depths = row.depths if depths is None else _core.check_depths(depths, (5, 10, 5))
    # As keras.applications: 75 leaves a 1x1 grid after Reduction-B.
    return _core.Architecture(
        dataclasses.replace(row, depths=depths, style=style),
        default_size=299,
        min_size=75,
        head=_heads.pool_head(dropout=DROPOUT),
    )


OPTIONS = (
    _core.Option(
        "depths",
        None,
        "Blocks at 35x35, 17x17 and 8x8 (the row's when None): (5, 10, 5) is the "
        "paper's Figure 15 schema, (10, 20, 10) the released Inception-ResNet-v2.",
    ),
    _inception.BN_SCALE,
)
INCEPTION_RESNET = _inception.family(PAPER, configure, body, OPTIONS)

InceptionResNetV1 = INCEPTION_RESNET.register(
    "inception_resnet_v1",
    "InceptionResNetV1",
    CONFIGS["v1"],
    """Inception-ResNet-v1.

    299x299 input; Figure 14 stem (35x35x256), 5 x block35 (Figure 10), Reduction-A
    (k, l, m, n = 192, 192, 256, 384) to 17x17x896, 10 x block17 (Figure 11), Reduction-B
    (Figure 12) to 8x8x1792, 5 x block8 (Figure 13), global average pool, dropout 0.2,
    classifier. Residual scales 0.17 / 0.10 / 0.20 (the released v2's). BN with scale.
    """,
)

InceptionResNetV2 = INCEPTION_RESNET.register(
    "inception_resnet_v2",
    "InceptionResNetV2",
    CONFIGS["v2"],
    """Inception-ResNet-v2, the released network (TF-slim, keras.applications, timm).

    299x299 input; grids 35x35x320, 17x17x1088, 8x8x2080, final 1x1 conv to 1536 channels.
    BN with scale (timm: 55,843,464 trainable parameters; bn_scale=False as keras.applications
    and TF-slim: 55,813,192). Residual scales 0.17 / 0.10 / 0.20, the last block unscaled.
    """,
)


# --- pretrained weights: conversion rows and weight cards (keras_classics/weights) ----------

# timm's inception_resnet_v2: a port of the TF-slim release.
_IRV2_STEM = re.compile(r"conv_(\d[a-z])_\dx\d")
_IRV2_BLOCK = re.compile(r"block(35|17|8)_(\d+)")
_IRV2_REPEAT = {"35": "repeat", "17": "repeat_1", "8": "repeat_2"}


def _irv2_block(block, branches):
    """block35_k, block17_k, block8_k -> repeat.{k-1}, repeat_1.{k-1}, repeat_2.{k-1}; the last
    8x8 block (unscaled, no ReLU) is timm's `block8`."""
    grid, index = _IRV2_BLOCK.fullmatch(block).groups()
    last = max(
        int(m[2])
        for m in (_IRV2_BLOCK.fullmatch(module) for module, _ in branches)
        if m and m[1] == "8"
    )
    return (
        "block8" if grid == "8" and int(index) == last else f"{_IRV2_REPEAT[grid]}.{int(index) - 1}"
    )


def timm_module(name, branches):
    """conv_1a_3x3 ... conv_7b_1x1 -> conv2d_1a ... conv2d_7b; mixed_5b/6a/7a keep their
    names; blocks -> repeat*.k (their linear 1x1 `_up_conv` -> `.conv2d`); predictions ->
    classif."""
    if name == "predictions":
        return "classif"
    match = _IRV2_STEM.fullmatch(name)
    if match:
        return f"conv2d_{match[1]}"
    if name.endswith("_up_conv"):
        return f"{_irv2_block(name[: -len('_up_conv')], branches)}.conv2d"
    operation = _inception.module_conv(name)
    if operation is None:
        return None
    prefix = (
        _irv2_block(operation.module, branches)
        if _IRV2_BLOCK.fullmatch(operation.module)
        else operation.module
    )
    return _inception.timm_branch_module(prefix, operation, branches)


_BLOCK_UP = re.compile(r"(block(?:35|17|8)_\d+)_up_conv")


def keras_applications_name(name):
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


conversion.register_conversions(
    torch_layout.row(
        "timm",
        "inception_resnet_v2",
        "inception_resnet_v2",
        torch_layout.plan(_inception.torch_unit_names(timm_module)),
        ("classif.",),
        input=InputConfig("tf", 299, crop_ratio=0.8975, interpolation="bicubic"),
    ),
    # keras.applications' InceptionResNetV2: BN without scale (our bn_scale=False).
    keras_layout.row(
        "InceptionResNetV2",
        "inception_resnet_v2",
        _inception.keras_applications_plan(keras_applications_name),
        ("predictions/",),
        input=keras_layout.TF_299,
        rename=keras_layout.rank_auto_named,
        builder_kwargs=dict(bn_scale=False),
    ),
)
cards.register_cards(
    cards.timm_card(
        "inception_resnet_v2.tf_in1k",
        80.434,
        95.312,
        299,
        0.8975,
        "bicubic",
        "apache-2.0",
        55_843_464,
    ),
    cards.timm_card(
        "inception_resnet_v2.tf_ens_adv_in1k",
        79.998,
        94.94,
        299,
        0.8975,
        "bicubic",
        "apache-2.0",
        55_843_464,
    ),
    cards.keras_card(
        "InceptionResNetV2",
        "inception_resnet_v2/inception_resnet_v2_weights_tf_dim_ordering_tf_kernels.h5",
        "e693bd0210a403b3192acc6073ad2e96",
        80.3,
        95.3,
        215,
        "Apache-2.0 (TensorFlow models)",
        55_813_192,
    ),
)
