"""Inception-v4: Szegedy, Ioffe, Vanhoucke & Alemi, "Inception-v4, Inception-ResNet and the
Impact of Residual Connections on Learning", AAAI 2017, Figures 3-9.

Figure 9: stem, 4 x Inception-A, Reduction-A, 7 x Inception-B, Reduction-B, 3 x Inception-C,
average pool, dropout (keep 0.8), softmax. Convolutions marked "V" in the figures are
unpadded, the others 'same'. Layer names are the TF-slim end points (conv_1a_3x3, mixed_3a,
..., mixed_7d) with the module naming rule of `_inception`.
"""

from keras_classics.models import _core, _heads, _inception
from keras_classics.models._inception import Conv, ConvStyle, Pool, Split
from keras_classics.records.input_config import InputConfig
from keras_classics.weights import cards, conversion, torch_layout

PAPER = "Szegedy et al. 2017, Inception-v4, Inception-ResNet, Figures 3-9"

# BN with scale, eps 1e-3, as timm's inception_v4 (42,679,816 trainable parameters); TF-slim
# drops BN's gamma (42,648,232).
STYLE = ConvStyle(batch_norm=True, scale=True, epsilon=1e-3)
DROPOUT = 0.2  # Figure 9: "Dropout (keep 0.8)".
V = "valid"


def stem_conv_pool():
    """Figure 3, first filter concatenation (147x147x64 -> 73x73x160):
    3x3/2 max pool (V) | 3x3/2 conv 96 (V)."""
    return ((Pool("max", stride=2, padding=V),), (Conv(96, 3, stride=2, padding=V),))


def stem_factorised():
    """Figure 3, second concatenation (73x73x160 -> 71x71x192):
    1x1 64 -> 3x3 96 (V) | 1x1 64 -> 1x7 64 -> 7x1 64 -> 3x3 96 (V).

    Figure 3 draws the 7x1 conv before the 1x7; the authors' release (TF-slim Mixed_4a, and
    timm, whose weights are its port) applies the 1x7 first, as here, and its weights need it.
    """
    return (
        (Conv(64, 1), Conv(96, 3, padding=V)),
        (Conv(64, 1), Conv(64, (1, 7)), Conv(64, (7, 1)), Conv(96, 3, padding=V)),
    )


def stem_conv_pool_2():
    """Figure 3, third concatenation (71x71x192 -> 35x35x384): 3x3/2 conv 192 (V) |
    3x3/2 max pool (V). (The figure says "MaxPool stride=2 V".)"""
    return ((Conv(192, 3, stride=2, padding=V),), (Pool("max", stride=2, padding=V),))


def inception_a():
    """Figure 4 (35x35x384): avg pool -> 1x1 96 | 1x1 96 | 1x1 64 -> 3x3 96 |
    1x1 64 -> 3x3 96 -> 3x3 96; branches in TF-slim's order (1x1 first, pool last)."""
    return (
        (Conv(96, 1),),
        (Conv(64, 1), Conv(96, 3)),
        (Conv(64, 1), Conv(96, 3), Conv(96, 3)),
        (Pool("avg"), Conv(96, 1)),
    )


def reduction_a(k, l, m, n):  # noqa: E741 (Table 1's names of the four widths)
    """Figure 7 (35x35 -> 17x17): 3x3/2 max pool (V) | 3x3/2 conv n (V) |
    1x1 k -> 3x3 l -> 3x3/2 m (V); Table 1 gives k, l, m, n per network. Branches in
    TF-slim's order (conv, conv, pool)."""
    return (
        (Conv(n, 3, stride=2, padding=V),),
        (Conv(k, 1), Conv(l, 3), Conv(m, 3, stride=2, padding=V)),
        (Pool("max", stride=2, padding=V),),
    )


def inception_b():
    """Figure 5 (17x17x1024): avg pool -> 1x1 128 | 1x1 384 | 1x1 192 -> 1x7 224 -> 7x1 256 |
    1x1 192 -> 7x1 192 -> 1x7 224 -> 7x1 224 -> 1x7 256 (the order of 1x7/7x1 as TF-slim)."""
    return (
        (Conv(384, 1),),
        (Conv(192, 1), Conv(224, (1, 7)), Conv(256, (7, 1))),
        (Conv(192, 1), Conv(192, (7, 1)), Conv(224, (1, 7)), Conv(224, (7, 1)), Conv(256, (1, 7))),
        (Pool("avg"), Conv(128, 1)),
    )


def reduction_b():
    """Figure 8 (17x17x1024 -> 8x8x1536): 1x1 192 -> 3x3/2 192 (V) |
    1x1 256 -> 1x7 256 -> 7x1 320 -> 3x3/2 320 (V) | 3x3/2 max pool (V)."""
    return (
        (Conv(192, 1), Conv(192, 3, stride=2, padding=V)),
        (Conv(256, 1), Conv(256, (1, 7)), Conv(320, (7, 1)), Conv(320, 3, stride=2, padding=V)),
        (Pool("max", stride=2, padding=V),),
    )


def inception_c():
    """Figure 6 (8x8x1536): avg pool -> 1x1 256 | 1x1 256 | 1x1 384 -> [1x3 256, 3x1 256] |
    1x1 384 -> 3x1 448 -> 1x3 512 -> [1x3 256, 3x1 256] (inner order as TF-slim)."""
    return (
        (Conv(256, 1),),
        (Conv(384, 1), Split((Conv(256, (1, 3)), Conv(256, (3, 1))))),
        (
            Conv(384, 1),
            Conv(448, (3, 1)),
            Conv(512, (1, 3)),
            Split((Conv(256, (1, 3)), Conv(256, (3, 1)))),
        ),
        (Pool("avg"), Conv(256, 1)),
    )


# Table 1: Reduction-A's k, l, m, n for Inception-v4.
REDUCTION_A = (192, 224, 256, 384)
# Figure 9: Inception-A, -B and -C modules at 35x35, 17x17 and 8x8.
DEPTHS = (4, 7, 3)
# A grid's modules are lettered after its first (mixed_5b ... mixed_5e), as TF-slim's.
LETTERS = "bcdefghijklmnopqrstuvwxyz"


def modules_table(depths):
    """Figure 9 as data, (name, branches) in order: the stem's three concatenations, then
    `depths` Inception-A, -B and -C modules with the reductions between them (14 in all at
    the paper's depths)."""
    a, b, c = depths
    return (
        ("mixed_3a", stem_conv_pool()),
        ("mixed_4a", stem_factorised()),
        ("mixed_5a", stem_conv_pool_2()),
        *((f"mixed_5{x}", inception_a()) for x in LETTERS[:a]),
        ("mixed_6a", reduction_a(*REDUCTION_A)),
        *((f"mixed_6{x}", inception_b()) for x in LETTERS[:b]),
        ("mixed_7a", reduction_b()),
        *((f"mixed_7{x}", inception_c()) for x in LETTERS[:c]),
    )


def stem_convs(x, style):
    """Figure 3's first three convs: 3x3/2 32 (V), 3x3 32 (V), 3x3 64 (299 -> 147x147x64)."""
    x = _inception.conv_unit(x, Conv(32, 3, stride=2, padding=V), "conv_1a_3x3", style)
    x = _inception.conv_unit(x, Conv(32, 3, padding=V), "conv_2a_3x3", style)
    return _inception.conv_unit(x, Conv(64, 3), "conv_2b_3x3", style)


def body(x, config):
    return _inception.modules({"conv_2b_3x3": stem_convs(x, STYLE)}, config, STYLE)


def configure(row, *, depths):
    depths = _core.check_depths(depths, DEPTHS)
    if max(depths) > len(LETTERS):
        raise ValueError(
            f"depths={depths!r} is invalid; accepted: at most {len(LETTERS)} modules a grid "
            f"(lettered mixed_5b ... mixed_5z), e.g. {DEPTHS!r}."
        )
    # As keras.applications' Inception family: 75 leaves a 1x1 grid after Reduction-B.
    return _core.Architecture(
        modules_table(depths), default_size=299, min_size=75, head=_heads.pool_head(dropout=DROPOUT)
    )


OPTIONS = (
    _core.Option(
        "depths",
        None,
        "Inception-A, -B and -C modules at 35x35, 17x17 and 8x8 (Figure 9's (4, 7, 3) when "
        "None), as Inception-ResNet's depths.",
    ),
)
INCEPTION_V4 = _inception.family(PAPER, configure, body, OPTIONS)

InceptionV4 = INCEPTION_V4.register(
    "inception_v4",
    "InceptionV4",
    None,
    """Inception-v4.

    299x299 input; grids 35x35x384 (mixed_5e), 17x17x1024 (mixed_6h), 8x8x1536 (mixed_7d).
    BN with scale after every conv (timm: 42,679,816 trainable parameters; TF-slim drops BN's
    scale: 42,648,232). Global average pool, dropout 0.2 (keep 0.8), classifier.
    """,
)


# --- pretrained weights: conversion rows and weight cards (keras_classics/weights) ----------

# timm's inception_v4: a port of the TF-slim release, [-1, 1] input (its pretrained_cfg).
_V4_NAMED = {
    "conv_1a_3x3": "features.0",
    "conv_2a_3x3": "features.1",
    "conv_2b_3x3": "features.2",
    "predictions": "last_linear",
}


def timm_module(name, branches):
    """Stem convs -> features.0-2; module k of mixed_3a ... mixed_7d -> features.{3 + k};
    predictions -> last_linear."""
    if name in _V4_NAMED:
        return _V4_NAMED[name]
    operation = _inception.module_conv(name)
    if operation is None:
        return None
    # The TF-slim end point names sort in network order.
    modules = sorted({module for module, _ in branches})
    prefix = f"features.{3 + modules.index(operation.module)}"
    if all(len(ops) == 1 for (module, _), ops in branches.items() if module == operation.module):
        return f"{prefix}.conv"  # Mixed3a, Mixed5a: a max pool and one conv named `conv`
    return _inception.timm_branch_module(prefix, operation, branches)


conversion.register_conversions(
    torch_layout.row(
        "timm",
        "inception_v4",
        "inception_v4",
        torch_layout.plan(_inception.torch_unit_names(timm_module)),
        ("last_linear.",),
        input=InputConfig("tf", 299, interpolation="bicubic"),
    ),
)
cards.register_cards(
    cards.timm_card(
        "inception_v4.tf_in1k", 80.144, 94.982, 299, 0.875, "bicubic", "apache-2.0", 42_679_816
    ),
)
