"""AlexNet: Krizhevsky, Sutskever & Hinton, "ImageNet Classification with Deep Convolutional
Neural Networks", NIPS 2012, section 3 and Figure 2.
"""

import dataclasses

import keras

from keras_classics.layers import LocalResponseNormalization
from keras_classics.layers.group_conv import conv2d
from keras_classics.models import _core, _heads
from keras_classics.records.augmentation import Augmentation
from keras_classics.records.recipe import Recipe
from keras_classics.records.registry import ReplicaCheck
from keras_classics.weights import cards, conversion, torch_layout

PAPER = "Krizhevsky et al. 2012, ImageNet Classification with Deep CNNs, Fig. 2"


@dataclasses.dataclass(frozen=True)
class Conv:
    """One row of Figure 2: a conv layer and what follows it."""

    filters: int
    kernel: int
    stride: int = 1
    padding: int = 0
    groups: int = 1  # 2 = the paper's two-GPU connectivity (each half sees one GPU's maps)
    lrn: bool = False
    pool: bool = False


@dataclasses.dataclass(frozen=True)
class Variant:
    convs: tuple
    input_size: int
    min_size: int
    dropout_first: bool  # torchvision drops before each FC; the paper drops fc6/fc7 outputs


VARIANTS = {
    # 227 input (the "224" of the paper's text does not give its 55x55 conv1 maps).
    "paper": Variant(
        convs=(
            Conv(96, 11, stride=4, lrn=True, pool=True),
            Conv(256, 5, padding=2, groups=2, lrn=True, pool=True),
            Conv(384, 3, padding=1),
            Conv(384, 3, padding=1, groups=2),
            Conv(256, 3, padding=1, groups=2, pool=True),
        ),
        input_size=227,
        min_size=67,
        dropout_first=False,
    ),
    # torchvision.models.alexnet: the one-GPU net of Krizhevsky 2014 ("One weird trick").
    "torchvision": Variant(
        convs=(
            Conv(64, 11, stride=4, padding=2, pool=True),
            Conv(192, 5, padding=2, pool=True),
            Conv(384, 3, padding=1),
            Conv(256, 3, padding=1),
            Conv(256, 3, padding=1, pool=True),
        ),
        input_size=224,
        min_size=63,
        dropout_first=True,
    ),
}
FINAL_GRID = 6
FC_UNITS = 4096
DROPOUT = 0.5


def conv_layer(x, conv, name):
    """Conv (grouped where the paper splits across GPUs) + ReLU [+ LRN] [+ 3x3/2 max pool]."""
    if conv.padding:
        x = keras.layers.ZeroPadding2D(conv.padding, name=f"{name}_pad")(x)
    x = conv2d(conv.filters, conv.kernel, strides=conv.stride, groups=conv.groups, name=name)(x)
    x = keras.layers.ReLU(name=f"{name}_relu")(x)
    if conv.lrn:
        # Section 3.3: k=2, n=5, alpha=1e-4, beta=0.75, applied after the ReLU.
        x = LocalResponseNormalization(name=f"{name}_norm")(x)
    if conv.pool:
        # Section 3.4: overlapping pooling, z=3, s=2.
        x = keras.layers.MaxPooling2D(3, strides=2, name=name.replace("conv", "pool"))(x)
    return x


def body(x, variant):
    endpoints = {}
    for i, conv in enumerate(variant.convs, start=1):
        x = endpoints[f"conv{i}"] = conv_layer(x, conv, f"conv{i}")
    return endpoints


def configure(row, *, variant):
    if variant not in VARIANTS:
        raise ValueError(f"variant={variant!r} is invalid; accepted: {tuple(VARIANTS)}.")
    spec = VARIANTS[variant]
    # Figure 2's head: fc6 and fc7 of 4096 with ReLU, dropout 0.5 (section 4.2), classifier.
    head = _heads.fc_head(FINAL_GRID, FC_UNITS, DROPOUT, dropout_first=spec.dropout_first)
    return _core.Architecture(spec, default_size=spec.input_size, min_size=spec.min_size, head=head)


OPTIONS = (
    _core.Option(
        "variant",
        "paper",
        '"paper" (227x227 input, LRN after conv1/conv2, conv2/4/5 grouped in two as '
        'the paper\'s two-GPU connectivity: 60,965,224 parameters) or "torchvision" '
        "(the one-GPU 64-192-384-256-256 net without LRN or groups, 224x224: "
        "61,100,840 parameters).",
    ),
)
# Training: section 5, SGD momentum 0.9, batch 128, weight decay 5e-4, LR 0.01 divided by 10
# when the validation error stopped improving, ~90 epochs.
# Augmentation, sections 2 and 4.1: the shorter side rescaled to 256, the central 256x256
# square, a random 224x224 patch of it and its mirror image, and the PCA colour lighting
# (keras_classics/data/train_preprocessing.py runs the operations).
AUGMENTATION = Augmentation(
    "alexnet",
    "Krizhevsky et al. 2012, section 4.1",
    "scale",
    scale=(256, 256),
    central_square=True,
    after_resize=("pca_lighting",),
)
RECIPE = Recipe("Krizhevsky et al. 2012, section 5", "sgd", 0.01, 128, 90, "plateau", 5e-4)
ALEXNET = _core.Family(
    "alexnet", PAPER, configure, body, OPTIONS, augmentation=AUGMENTATION, recipe=RECIPE
)

AlexNet = ALEXNET.register(
    "alexnet",
    "AlexNet",
    None,
    """AlexNet (Fig. 2).

    The head is Flatten + fc6/fc7 (4096, ReLU, dropout 0.5) + classifier, so include_top=True
    needs the 6x6 final grid of the variant's input size.
    """,
    # Replica equivalence (keras_classics/training/equivalence.py) in float64: its float32
    # runs at 227 agreed to 2e-6 on an AVX-512 CPU but parted by 1% on an AVX2 one with oneDNN
    # (3e-8 in float64 there). At its 67-pixel minimum under a pooled head (its body: LRN,
    # grouped and plain convolutions; the fixed head's Flatten and fully connected layers
    # compute nothing per replica, and its Dropout is GoogLeNet's, compared with its head):
    # the float64 run at 227 took 6 minutes of CI on the AVX2 CPU, 24 s at 67 (3.0e-8).
    replica_check=ReplicaCheck(67, include_top=False),
)


# --- pretrained weights: conversion rows and weight cards (keras_classics/weights) ----------

# torchvision.models.AlexNet.classifier: Dropout, Linear, ReLU, Dropout, Linear, ReLU, Linear.
conversion.register_conversions(
    torch_layout.row(
        "torchvision",
        "alexnet",
        "alexnet",
        torch_layout.plan(torch_layout.sequential_names((1, 4, 6))),
        ("classifier.",),
        input=torch_layout.TORCHVISION_224,
        variant="torchvision",
    ),
)
cards.register_cards(
    cards.torchvision_card(
        "alexnet",
        "IMAGENET1K_V1",
        "alexnet-owt-7be5be79.pth",
        56.522,
        79.066,
        61_100_840,
        0.714,
        233.087,
        256,
        224,
        "tree/main/references/classification#alexnet-and-vgg",
    ),
)
