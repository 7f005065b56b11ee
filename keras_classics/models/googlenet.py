"""GoogLeNet (Inception-v1): Szegedy et al., "Going Deeper with Convolutions", CVPR 2015,
Table 1 (layers), section 5 (auxiliary classifiers), Figure 3.

Layer names are those of the BVLC Caffe release (conv1, inception_3a_1x1,
inception_3a_3x3_reduce, ..., inception_3a_pool_proj), which read like Table 1's columns.
"""

import dataclasses
import re

import keras

from keras_classics.layers import LocalResponseNormalization
from keras_classics.models import _core, _heads, _inception
from keras_classics.models._inception import Conv, ConvStyle, conv_unit
from keras_classics.records.augmentation import Augmentation, register_augmentation
from keras_classics.records.input_config import InputConfig
from keras_classics.records.recipe import Recipe
from keras_classics.records.registry import ReplicaCheck
from keras_classics.weights import cards, conversion, torch_layout

PAPER = "Szegedy et al. 2015, Going Deeper with Convolutions (GoogLeNet), Table 1"

# Table 1: (#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj) of each inception module;
# a None row is the 3x3/2 max pool between grids.
INCEPTION_ROWS = (
    ("3a", (64, 96, 128, 16, 32, 32)),
    ("3b", (128, 128, 192, 32, 96, 64)),
    ("pool3", None),
    ("4a", (192, 96, 208, 16, 48, 64)),
    ("4b", (160, 112, 224, 24, 64, 64)),
    ("4c", (128, 128, 256, 24, 64, 64)),
    ("4d", (112, 144, 288, 32, 64, 64)),
    ("4e", (256, 160, 320, 32, 128, 128)),
    ("pool4", None),
    ("5a", (256, 160, 320, 32, 128, 128)),
    ("5b", (384, 192, 384, 48, 128, 128)),
)
# Section 5: auxiliary classifiers on top of 4a and 4d.
AUX_AFTER = ("4a", "4d")
# Five stride-2 steps (conv1, pool1-4) take 32 to a 1x1 final grid, as 224 to 7x7.
MIN_SIZE = 32


@dataclasses.dataclass(frozen=True)
class Variant:
    style: ConvStyle
    lrn: bool  # LRN after pool1 and conv2 (Table 1's "LocalRespNorm" in Figure 3)
    kernel_5x5: int  # the "#5x5" branch's kernel
    pool4_size: int  # the max pool before 5a
    dropout: float


VARIANTS = {
    # The paper: convs with bias and ReLU, no BN; true 5x5; dropout 40% (section 5).
    "paper": Variant(
        ConvStyle(batch_norm=False), lrn=True, kernel_5x5=5, pool4_size=3, dropout=0.4
    ),
    # torchvision.models.googlenet: BN (eps 1e-3) after every conv, no LRN, a 3x3 conv in the
    # "5x5" branch (pytorch/vision#906, kept for its weights), 2x2/2 max pool before 5a,
    # dropout 0.2.
    "torchvision": Variant(
        ConvStyle(batch_norm=True, scale=True, epsilon=1e-3),
        lrn=False,
        kernel_5x5=3,
        pool4_size=2,
        dropout=0.2,
    ),
}


def lrn(x, name):
    # The paper gives no LRN parameters; the BVLC Caffe GoogLeNet uses local_size 5,
    # alpha 1e-4 (Caffe's convention: divided by the window size), beta 0.75, k 1.
    return LocalResponseNormalization(
        size=5, bias=1.0, alpha=1e-4, beta=0.75, alpha_convention="caffe", name=name
    )(x)


def max_pool(x, size, name):
    # Caffe's ceil-mode pooling (BVLC, torchvision ceil_mode=True) equals Keras' 'same' on the
    # even grids of the 224 input: pad one row/column at the end.
    return keras.layers.MaxPooling2D(size, strides=2, padding="same", name=name)(x)


def inception(x, widths, name, variant):
    """Figure 2(b): 1x1 | 1x1 -> 3x3 | 1x1 -> 5x5 | 3x3 max pool -> 1x1, concatenated."""
    n1x1, n3x3_reduce, n3x3, n5x5_reduce, n5x5, pool_proj = widths
    style = variant.style
    b0 = conv_unit(x, Conv(n1x1, 1), f"{name}_1x1", style)
    b1 = conv_unit(x, Conv(n3x3_reduce, 1), f"{name}_3x3_reduce", style)
    b1 = conv_unit(b1, Conv(n3x3, 3), f"{name}_3x3", style)
    b2 = conv_unit(x, Conv(n5x5_reduce, 1), f"{name}_5x5_reduce", style)
    b2 = conv_unit(b2, Conv(n5x5, variant.kernel_5x5), f"{name}_5x5", style)
    b3 = keras.layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_pool")(x)
    b3 = conv_unit(b3, Conv(pool_proj, 1), f"{name}_pool_proj", style)
    return keras.layers.Concatenate(name=name)([b0, b1, b2, b3])


def aux_head(index, after):
    """Section 5: on top of `after`, 5x5/3 average pool (4x4 out of 14x14), 1x1 conv 128 +
    ReLU, FC 1024 + ReLU, dropout 70%, linear classifier; loss weight 0.3."""
    name = f"aux{index}"

    def neck(x, variant, input_shape):
        # Its FC layer is built for the 14x14 grid of 224 inputs.
        if tuple(x.shape[1:3]) != (14, 14):
            raise ValueError(
                f"aux_logits=True needs the paper's 14x14 grid at {after} "
                f"(224x224 input), but input_shape={input_shape!r} gives "
                f"{x.shape[1]}x{x.shape[2]}; accepted: input_shape=(224, 224, "
                "C), or aux_logits=False."
            )
        x = keras.layers.AveragePooling2D(5, strides=3, name=f"{name}_pool")(x)
        return conv_unit(x, Conv(128, 1), f"{name}_conv", variant.style)

    head = _heads.Head(
        (
            _heads.Flatten(f"{name}_flatten"),
            _heads.FC(1024, f"{name}_fc"),
            _heads.Dropout(0.7, f"{name}_drop"),
        ),
        classifier=f"{name}_predictions",
    )
    return _heads.AuxHead(after, neck, head, loss_weight=0.3)


def stem(x, variant):
    """Table 1 up to inception (3a): conv 7x7/2, max pool, [LRN], conv 1x1 and 3x3, [LRN],
    max pool."""
    style = variant.style
    # Caffe and torchvision pad the 7x7/2 conv by 3 on every side (Keras' 'same' would pad
    # 2 before and 3 after).
    x = keras.layers.ZeroPadding2D(3, name="conv1_pad")(x)
    x = conv_unit(x, Conv(64, 7, stride=2, padding="valid"), "conv1", style)
    x = max_pool(x, 3, "pool1")
    if variant.lrn:
        x = lrn(x, "pool1_norm")
    x = conv_unit(x, Conv(64, 1), "conv2_reduce", style)
    x = conv_unit(x, Conv(192, 3), "conv2", style)
    if variant.lrn:
        x = lrn(x, "conv2_norm")
    return max_pool(x, 3, "pool2")


def body(x, variant):
    endpoints = {"pool2": stem(x, variant)}
    x = endpoints["pool2"]
    for row, widths in INCEPTION_ROWS:
        if widths is None:
            x = endpoints[row] = max_pool(x, variant.pool4_size if row == "pool4" else 3, row)
        else:
            x = endpoints[f"inception_{row}"] = inception(x, widths, f"inception_{row}", variant)
    return endpoints


def configure(row, *, variant):
    if variant not in VARIANTS:
        raise ValueError(f"variant={variant!r} is invalid; accepted: {tuple(VARIANTS)}.")
    spec = VARIANTS[variant]
    # Table 1: 7x7 average pool (global at 224), dropout, linear, softmax.
    return _core.Architecture(
        spec,
        default_size=224,
        min_size=MIN_SIZE,
        head=_heads.pool_head("pool5", spec.dropout),
        aux_heads=tuple(aux_head(i, f"inception_{a}") for i, a in enumerate(AUX_AFTER, 1)),
    )


OPTIONS = (
    _core.Option(
        "variant",
        "paper",
        '"paper": Table 1 with true 5x5 convs, conv biases and ReLU, no BN, LRN after '
        'pool1 and conv2, dropout 0.4 (6,998,552 parameters); "torchvision": '
        'torchvision\'s googlenet (BN after every conv, 3x3 kernels in the "5x5" '
        "branch, no LRN, dropout 0.2: 6,624,904 parameters).",
    ),
)
# Preprocessing: torchvision's googlenet weights were ported from TF; with
# transform_input=True it maps its mean/std-normalised input back to [-1, 1] before conv1,
# so the layers (and any converted checkpoint) expect [-1, 1]: mode "tf".
# Training augmentation: section 6 (_inception.AUGMENTATION).
# Training: section 6, momentum 0.9, LR decreased 4% every 8 epochs. Base LR, batch and decay
# are not in the paper: the BVLC Caffe solver's (0.01, 32, 2e-4).
RECIPE = Recipe(
    "Szegedy et al. 2015, section 6; BVLC solver",
    "sgd",
    0.01,
    32,
    250,
    "exponential",
    2e-4,
    decay_rate=0.96,
    decay_epochs=8,
)
GOOGLENET = _inception.family(PAPER, configure, body, OPTIONS, recipe=RECIPE)

GoogLeNet = GOOGLENET.register(
    "googlenet",
    "GoogLeNet",
    None,
    """GoogLeNet / Inception-v1.

    224x224 input. aux_logits=True (section 5) adds the auxiliary classifiers on inception_4a
    and inception_4d (+3,188,840 and +3,190,888 parameters for the paper variant), outputs
    [predictions, aux1_predictions, aux2_predictions], weighted 0.3 each in the loss
    (spec.aux_loss_weights).
    """,
    # Replica equivalence (keras_classics/training/equivalence.py): float32 agrees to under
    # 1e-6 on AVX2 and AVX-512 CPUs; with its head, whose Dropout is the check's.
    replica_check=ReplicaCheck(32, True, "float32"),
)

# Section 6's photometric distortions (after Howard 2013; TF-slim inception_preprocessing's
# ranges), which the paper found "useful to combat overfitting to some extent": a named
# augmentation for --augmentation. The family's default stays the crops alone, the Inception
# line's common part (docs/data.md).
register_augmentation(
    Augmentation(
        "inception_color",
        "Szegedy et al. 2015, section 6, photometric",
        "area",
        after_resize=("color_distortion",),
    )
)


# --- pretrained weights: conversion rows and weight cards (keras_classics/weights) ----------

# Our GoogLeNet (Caffe names) -> torchvision's: stem units, then the inception branches.
_GOOGLENET_STEM = {"conv1": "conv1", "conv2_reduce": "conv2", "conv2": "conv3", "predictions": "fc"}
_GOOGLENET_BRANCH = {
    "1x1": "branch1",
    "3x3_reduce": "branch2.0",
    "3x3": "branch2.1",
    "5x5_reduce": "branch3.0",
    "5x5": "branch3.1",
    "pool_proj": "branch4.1",
}
_GOOGLENET_UNIT = re.compile(r"inception_(\d[a-e])_(\w+)")


def torchvision_module(name, _):
    """conv1, conv2_reduce, conv2 -> conv1, conv2, conv3; inception_3a_3x3_reduce ->
    inception3a.branch2.0 ...; predictions -> fc. The aux heads are not mapped (see ROWS)."""
    if name in _GOOGLENET_STEM:
        return _GOOGLENET_STEM[name]
    match = _GOOGLENET_UNIT.fullmatch(name)
    if match and match[2] in _GOOGLENET_BRANCH:
        return f"inception{match[1]}.{_GOOGLENET_BRANCH[match[2]]}"
    return None


conversion.register_conversions(
    # torchvision's pretrained googlenet is built with transform_input=True: the model maps
    # its mean/std-normalised input back to (x / 255 - 0.5) / 0.5 before the first conv, so
    # the layers (and our converted model, which has no such step) take [-1, 1] input:
    # preprocessing "tf" equals torchvision's model on its own "torch" normalisation. Its aux
    # heads (aux1., aux2.) pool adaptively to 4x4 where ours pool 5x5/3 (the paper's), and
    # torchvision never trained them: not converted, aux_logits=True refused.
    torch_layout.row(
        "torchvision",
        "googlenet",
        "googlenet",
        torch_layout.plan(_inception.torch_unit_names(torchvision_module)),
        ("fc.",),
        input=InputConfig("tf", 224),
        aux=("aux1.", "aux2."),
        variant="torchvision",
        aux_logits=False,
    ),
)
cards.register_cards(
    cards.torchvision_card(
        "googlenet",
        "IMAGENET1K_V1",
        "googlenet-1378be20.pth",
        69.778,
        89.53,
        6_624_904,
        1.498,
        49.731,
        256,
        224,
        "tree/main/references/classification#googlenet",
    ),
)
