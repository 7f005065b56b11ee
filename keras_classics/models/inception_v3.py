"""Inception-v2 and Inception-v3: Szegedy, Vanhoucke, Ioffe, Shlens & Wojna, "Rethinking the
Inception Architecture for Computer Vision", CVPR 2016, Table 1, Figures 5, 6, 7, 8, 10.

One builder, two table rows:
- inception_v2: Table 1 as printed: the all-3x3 stem down to a 35x35x288 grid, 3 modules of
  Figure 5 (two 3x3 in place of the 5x5), the Figure 10 grid reduction, 5 modules of Figure 6
  (n=7), a grid reduction, 2 modules of Figure 7.
- inception_v3: the network the authors released (TF-slim inception_v3, also torchvision, timm
  and keras.applications), "Inception-v2 with all changes of Table 3" (factorised 7x7,
  BN-auxiliary). Its stem ends 1x1 80, 3x3 192, 3x3/2 max pool (35x35x192); its 35x35 modules
  keep a 5x5 branch; it has 4 Figure-6 modules, not 5.
The paper gives no filter counts inside the modules: both rows take them from the release.

Layer names follow the TF-slim end points (conv_1a_3x3, mixed_5b ... mixed_7c) and the
module naming rule of `_inception`.
"""

import dataclasses
import re

import keras

from keras_classics.models import _core, _heads, _inception
from keras_classics.models._inception import Conv, ConvStyle, Pool, Split
from keras_classics.records.input_config import InputConfig
from keras_classics.records.registry import ReplicaCheck
from keras_classics.weights import cards, conversion, keras_layout, torch_layout

PAPER = "Szegedy et al. 2016, Rethinking the Inception Architecture, Table 1"

# BN with scale, eps 1e-3, as torchvision/timm's Inception3 (23,834,568 trainable parameters);
# TF-slim and keras.applications drop BN's gamma (23,817,352): option bn_scale=False.
STYLE = ConvStyle(batch_norm=True, scale=True, epsilon=1e-3)
DROPOUT = 0.2  # TF-slim's dropout_keep_prob=0.8 (torchvision uses 0.5); the paper gives none.


def fig5(pool_proj, kernel=3):
    """Figure 5 (35x35): 1x1 | 1x1 -> 3x3 | 1x1 -> 3x3 -> 3x3 | avg pool -> 1x1.

    kernel=5: the release's Mixed_5b-5d, whose second branch keeps a 5x5 conv (48 -> 64).
    """
    return (
        (Conv(64, 1),),
        (Conv(48, 1), Conv(64, kernel)),
        (Conv(64, 1), Conv(96, 3), Conv(96, 3)),
        (Pool("avg"), Conv(pool_proj, 1)),
    )


def reduction_35():
    """Figure 10 (35x35 -> 17x17, 288 -> 768): 3x3/2 conv | 1x1 -> 3x3 -> 3x3/2 | max pool/2,
    the stride-2 layers unpadded."""
    return (
        (Conv(384, 3, stride=2, padding="valid"),),
        (Conv(64, 1), Conv(96, 3), Conv(96, 3, stride=2, padding="valid")),
        (Pool("max", stride=2, padding="valid"),),
    )


def fig6(c7):
    """Figure 6 with n=7 (17x17): 1x1 | 1x1 -> 1x7 -> 7x1 | 1x1 -> 7x1 -> 1x7 -> 7x1 -> 1x7 |
    avg pool -> 1x1, 192 each; `c7` the release's inner widths (128, 160, 192)."""
    return (
        (Conv(192, 1),),
        (Conv(c7, 1), Conv(c7, (1, 7)), Conv(192, (7, 1))),
        (Conv(c7, 1), Conv(c7, (7, 1)), Conv(c7, (1, 7)), Conv(c7, (7, 1)), Conv(192, (1, 7))),
        (Pool("avg"), Conv(192, 1)),
    )


def reduction_17():
    """17x17 -> 8x8 (768 -> 1280): the paper only says "grid reduction"; the release uses
    1x1 -> 3x3/2 | 1x1 -> 1x7 -> 7x1 -> 3x3/2 | max pool/2."""
    return (
        (Conv(192, 1), Conv(320, 3, stride=2, padding="valid")),
        (
            Conv(192, 1),
            Conv(192, (1, 7)),
            Conv(192, (7, 1)),
            Conv(192, 3, stride=2, padding="valid"),
        ),
        (Pool("max", stride=2, padding="valid"),),
    )


def fig7():
    """Figure 7 (8x8, expanded filter bank): 1x1 | 1x1 -> [1x3, 3x1] | 1x1 -> 3x3 ->
    [1x3, 3x1] | avg pool -> 1x1; 320 + 768 + 768 + 192 = 2048."""
    bank = Split((Conv(384, (1, 3)), Conv(384, (3, 1))))
    return (
        (Conv(320, 1),),
        (Conv(384, 1), bank),
        (Conv(448, 1), Conv(384, 3), bank),
        (Pool("avg"), Conv(192, 1)),
    )


# Table 1's stem (conv, conv, conv padded, pool, conv, conv, conv): (name, op); 'V' = valid.
STEM_V2 = (
    ("conv_1a_3x3", Conv(32, 3, stride=2, padding="valid")),  # 149x149x32
    ("conv_2a_3x3", Conv(32, 3, padding="valid")),  # 147x147x32
    ("conv_2b_3x3", Conv(64, 3)),  # 147x147x64
    ("pool_3a_3x3", Pool("max", stride=2, padding="valid")),  # 73x73x64
    ("conv_3b_3x3", Conv(80, 3, padding="valid")),  # 71x71x80
    ("conv_4a_3x3", Conv(192, 3, stride=2, padding="valid")),  # 35x35x192
    ("conv_4b_3x3", Conv(288, 3)),  # 35x35x288
)
# The release's stem (TF-slim inception_v3_base).
STEM_V3 = (
    ("conv_1a_3x3", Conv(32, 3, stride=2, padding="valid")),  # 149x149x32
    ("conv_2a_3x3", Conv(32, 3, padding="valid")),  # 147x147x32
    ("conv_2b_3x3", Conv(64, 3)),  # 147x147x64
    ("pool_3a_3x3", Pool("max", stride=2, padding="valid")),  # 73x73x64
    ("conv_3b_1x1", Conv(80, 1, padding="valid")),  # 73x73x80
    ("conv_4a_3x3", Conv(192, 3, padding="valid")),  # 71x71x192
    ("pool_5a_3x3", Pool("max", stride=2, padding="valid")),  # 35x35x192
)


@dataclasses.dataclass(frozen=True)
class Config:
    stem: tuple
    modules: tuple  # (name, branches)
    aux_after: str = None  # the module the auxiliary head sits on
    style: ConvStyle = STYLE  # with the builder's options (configure)


CONFIGS = {
    "v2": Config(
        stem=STEM_V2,
        # The 35x35 modules keep 288 channels (Table 1's input to the grid reduction).
        modules=(
            ("mixed_5b", fig5(64)),
            ("mixed_5c", fig5(64)),
            ("mixed_5d", fig5(64)),
            ("mixed_6a", reduction_35()),
            # Five 17x17 modules: the release's inner widths, 160 for the added one.
            ("mixed_6b", fig6(128)),
            ("mixed_6c", fig6(160)),
            ("mixed_6d", fig6(160)),
            ("mixed_6e", fig6(160)),
            ("mixed_6f", fig6(192)),
            ("mixed_7a", reduction_17()),
            ("mixed_7b", fig7()),
            ("mixed_7c", fig7()),
        ),
    ),
    "v3": Config(
        stem=STEM_V3,
        modules=(
            ("mixed_5b", fig5(32, kernel=5)),
            ("mixed_5c", fig5(64, kernel=5)),
            ("mixed_5d", fig5(64, kernel=5)),
            ("mixed_6a", reduction_35()),
            ("mixed_6b", fig6(128)),
            ("mixed_6c", fig6(160)),
            ("mixed_6d", fig6(160)),
            ("mixed_6e", fig6(192)),
            ("mixed_7a", reduction_17()),
            ("mixed_7b", fig7()),
            ("mixed_7c", fig7()),
        ),
        aux_after="mixed_6e",
    ),
}


def aux_neck(x, config, input_shape):
    """Figure 8, the BN-auxiliary classifier on the last 17x17 module up to its pooling: 5x5/3
    average pool, 1x1 conv 128, 5x5 conv 768 (both conv + BN + ReLU, unpadded as TF-slim); a
    global average pool (torchvision's) then takes any grid above 5x5 to 1x1."""
    if x.shape[1] is not None and x.shape[1] < 17 or x.shape[2] is not None and x.shape[2] < 17:
        raise ValueError(
            f"aux_logits=True needs a 17x17 or larger grid at the auxiliary head "
            f"(input 299x299), but input_shape={input_shape!r} gives "
            f"{x.shape[1]}x{x.shape[2]}; accepted: input_shape with height and "
            "width >= 299, or aux_logits=False."
        )
    x = keras.layers.AveragePooling2D(5, strides=3, name="aux1_pool")(x)
    x = _inception.conv_unit(x, Conv(128, 1), "aux1_1_conv", config.style)
    return _inception.conv_unit(x, Conv(768, 5, padding="valid"), "aux1_2_conv", config.style)


# Loss weight 0.4: TF-slim's; the paper gives none.
AUX_HEAD = _heads.Head((_heads.GlobalPool("aux1_avg_pool"),), classifier="aux1_predictions")


def body(x, config):
    endpoints = {}
    for layer_name, op in config.stem:
        x = endpoints[layer_name] = (
            _inception.conv_unit(x, op, layer_name, config.style)
            if isinstance(op, Conv)
            else _inception.pool(x, op, layer_name, config.style)
        )
    return _inception.modules(endpoints, config.modules, config.style)


def configure(row, *, bn_scale, avg_pool_counts_padding):
    style = _inception.with_options(
        STYLE, bn_scale=bn_scale, avg_pool_counts_padding=avg_pool_counts_padding
    )
    aux = (_heads.AuxHead(row.aux_after, aux_neck, AUX_HEAD, loss_weight=0.4),)
    # keras.applications' minimum: 75 leaves a 1x1 grid after the second reduction.
    return _core.Architecture(
        dataclasses.replace(row, style=style),
        default_size=299,
        min_size=75,
        head=_heads.pool_head(dropout=DROPOUT),
        aux_heads=aux if row.aux_after else (),
    )


OPTIONS = (
    _inception.BN_SCALE,
    _core.Option(
        "avg_pool_counts_padding",
        False,
        "True averages the modules' 'same' pools over the zero padding too, as "
        "torchvision's and timm's avg_pool2d(3, 1, padding=1) (TF-slim's 'SAME' "
        "pool, the default, leaves it out).",
    ),
)
INCEPTION = _inception.family(PAPER, configure, body, OPTIONS)

InceptionV2 = INCEPTION.register(
    "inception_v2",
    "InceptionV2",
    CONFIGS["v2"],
    """Inception-v2 as printed in Table 1.

    299x299 input: stem of 3x3 convs to 35x35x288, 3 x Figure 5, grid reduction (Figure 10),
    5 x Figure 6 (n=7), grid reduction, 2 x Figure 7, global average pool, dropout 0.2,
    classifier. Filter counts inside the modules are the released Inception-v3's (the paper
    gives none). No auxiliary classifier option (see InceptionV3).
    For TF-slim's "inception_v2" (the BN paper's network) use BNInception.
    """,
)

InceptionV3 = INCEPTION.register(
    "inception_v3",
    "InceptionV3",
    CONFIGS["v3"],
    """Inception-v3, the released network (TF-slim, torchvision, timm).

    299x299 input; BN with scale after every conv (torchvision/timm: 23,834,568 trainable
    parameters; bn_scale=False: 23,817,352). aux_logits=True adds the BN-auxiliary classifier
    on mixed_6e (+3,326,696 parameters, 27,161,264 in all, as torchvision), outputs
    [predictions, aux1_predictions], loss weight 0.4 (TF-slim's; the paper gives none) in
    spec.aux_loss_weights.
    """,
    # Section 7: label-smoothing regularisation with epsilon 0.1.
    recipe=dataclasses.replace(_inception.RECIPE, label_smoothing=0.1),
    # Replica equivalence: its runs part even in float64, not yet explained (docs/roadmap.md),
    # so not yet shown equivalent; its family is, by GoogLeNet. (An earlier measurement that
    # its gradients jump for any weight change was wrong: its Dropout drew a new mask between
    # the two gradients; equivalence.gradient_change replays the masks, and the float64
    # gradients change smoothly.)
    replica_check=ReplicaCheck(75, pending=True),
)


# --- pretrained weights: conversion rows and weight cards (keras_classics/weights) ----------

# torchvision's (and timm's) Inception3: the branch attributes of InceptionA (mixed_5b-d),
# InceptionB (mixed_6a), InceptionC (mixed_6b-e), InceptionD (mixed_7a), InceptionE (mixed_7b,
# 7c), in our branch order.
_V3_BRANCHES = {
    "5": ("branch1x1", "branch5x5", "branch3x3dbl", "branch_pool"),
    "6a": ("branch3x3", "branch3x3dbl"),
    "6": ("branch1x1", "branch7x7", "branch7x7dbl", "branch_pool"),
    "7a": ("branch3x3", "branch7x7x3"),
    "7": ("branch1x1", "branch3x3", "branch3x3dbl", "branch_pool"),
}
_V3_NAMED = {
    "predictions": "fc",
    "aux1_1_conv": "AuxLogits.conv0",
    "aux1_2_conv": "AuxLogits.conv1",
    "aux1_predictions": "AuxLogits.fc",
}
_V3_STEM = re.compile(r"conv_(\d[a-z]_\dx\d)")


def torchvision_module(name, branches):
    """conv_1a_3x3 -> Conv2d_1a_3x3; mixed_5b_b1_2_conv -> Mixed_5b.branch5x5_2: a branch of
    one conv is the unit itself (branch1x1, branch_pool), a longer one numbers its convs from
    1 (branch3x3_2a in a Split); aux1_* -> AuxLogits.conv0, conv1, fc; predictions -> fc."""
    if name in _V3_NAMED:
        return _V3_NAMED[name]
    match = _V3_STEM.fullmatch(name)
    if match:
        return f"Conv2d_{match[1]}"
    operation = _inception.operation_at(name)
    if operation is None or operation.kind != "conv":
        return None
    grid = operation.module[len("mixed_") :]
    prefix = _V3_BRANCHES[grid if grid in _V3_BRANCHES else grid[0]][operation.branch]
    convs = [op for op in branches[operation.module, operation.branch] if op.kind == "conv"]
    suffix = "" if len(convs) == 1 else f"_{operation.position}{operation.split}"
    return f"{operation.module.capitalize()}.{prefix}{suffix}"


TORCHVISION_PLAN = torch_layout.plan(_inception.torch_unit_names(torchvision_module))
# timm's pretrained configs: mean = std = 0.5 ([-1, 1], "tf"), 299, crop 0.875, bicubic
# resize; inception_v3.gluon_in1k takes ImageNet mean/std ("torch").
TIMM_299 = InputConfig("tf", 299, interpolation="bicubic")
# torchvision's and timm's Inception-v3 pool as torchvision's (padding counted:
# avg_pool2d(3, 1, padding=1)); AuxLogits converts into our aux head when the model is built
# with aux_logits=True (timm's tv_in1k checkpoint holds it too).
TORCH_ROW = dict(plan=TORCHVISION_PLAN, head=("fc.",), aux=("AuxLogits.",))
conversion.register_conversions(
    # torchvision's pretrained inception_v3 is built with transform_input=True (see
    # googlenet.py): [-1, 1] input, "tf"; 342 -> 299 centre crop.
    torch_layout.row(
        "torchvision",
        "inception_v3",
        "inception_v3",
        **TORCH_ROW,
        input=InputConfig("tf", 299, crop_ratio=299 / 342),
        avg_pool_counts_padding=True,
    ),
    torch_layout.row(
        "timm",
        "inception_v3",
        "inception_v3",
        **TORCH_ROW,
        input=TIMM_299,
        avg_pool_counts_padding=True,
    ),
    torch_layout.row(
        "timm",
        "inception_v3.gluon_in1k",
        "inception_v3",
        **TORCH_ROW,
        input=InputConfig("torch", 299, interpolation="bicubic"),
        avg_pool_counts_padding=True,
    ),
    # keras.applications' InceptionV3 has BN without scale (our bn_scale=False) and no aux
    # head (aux_logits=True is refused).
    keras_layout.row(
        "InceptionV3",
        "inception_v3",
        _inception.keras_applications_plan(
            lambda name: "predictions" if name == "predictions" else None
        ),
        ("predictions/",),
        input=keras_layout.TF_299,
        rename=keras_layout.rank_auto_named,
        builder_kwargs=dict(bn_scale=False, aux_logits=False),
    ),
)
cards.register_cards(
    cards.torchvision_card(
        "inception_v3",
        "IMAGENET1K_V1",
        "inception_v3_google-0cc3c7bd.pth",
        77.294,
        93.45,
        27_161_264,
        5.713,
        103.903,
        342,
        299,
        "tree/main/references/classification#inception-v3",
    ),
    cards.timm_card(
        "inception_v3.tv_in1k", 77.472, 93.468, 299, 0.875, "bicubic", "apache-2.0", 23_834_568
    ),
    cards.timm_card(
        "inception_v3.tf_in1k", 77.866, 93.644, 299, 0.875, "bicubic", "apache-2.0", 23_834_568
    ),
    cards.timm_card(
        "inception_v3.tf_adv_in1k", 77.598, 93.726, 299, 0.875, "bicubic", "apache-2.0", 23_834_568
    ),
    cards.timm_card(
        "inception_v3.gluon_in1k", 78.806, 94.372, 299, 0.875, "bicubic", "apache-2.0", 23_834_568
    ),
    cards.keras_card(
        "InceptionV3",
        "inception_v3/inception_v3_weights_tf_dim_ordering_tf_kernels.h5",
        "9a0d58056eeedaa3f26cb7ebd46da564",
        77.9,
        93.7,
        92,
        "Apache-2.0 (Keras 2 docs; fchollet/deep-learning-models says MIT)",
        23_817_352,
    ),
)
