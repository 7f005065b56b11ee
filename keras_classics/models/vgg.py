"""VGG: Simonyan & Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
Recognition", ICLR 2015, Table 1 (configurations A, A-LRN, B, C, D, E).
"""

import dataclasses
import re

import keras

from keras_classics.layers import LocalResponseNormalization
from keras_classics.models import _core, _heads
from keras_classics.records.augmentation import Augmentation
from keras_classics.records.recipe import Recipe
from keras_classics.records.registry import ReplicaCheck
from keras_classics.weights import cards, conversion, keras_layout, torch_layout

PAPER = "Simonyan & Zisserman 2015, Very Deep ConvNets, Table 1"

# Table 1, one tuple of kernel sizes per stage; every stage ends in a 2x2/2 max pool.
# Configuration C is D with the third conv of stages 3-5 a 1x1 ("conv1-256/512").
CONFIGS = {
    "A": ((3,), (3,), (3, 3), (3, 3), (3, 3)),
    "B": ((3, 3), (3, 3), (3, 3), (3, 3), (3, 3)),
    "C": ((3, 3), (3, 3), (3, 3, 1), (3, 3, 1), (3, 3, 1)),
    "D": ((3, 3), (3, 3), (3, 3, 3), (3, 3, 3), (3, 3, 3)),
    "E": ((3, 3), (3, 3), (3, 3, 3, 3), (3, 3, 3, 3), (3, 3, 3, 3)),
}
WIDTHS = (64, 128, 256, 512, 512)
FINAL_GRID = 7
FC_UNITS = 4096
DROPOUT = 0.5
# torchvision's vgg*_bn: BatchNorm2d defaults (eps 1e-5, momentum 0.1 = Keras 0.9).
BN = dict(epsilon=1e-5, momentum=0.9)


def conv_layer(x, filters, kernel, name, batch_norm):
    """conv (stride 1, 'same') [+ BN] + ReLU. The BN variants keep the conv bias, as torchvision."""
    x = keras.layers.Conv2D(filters, kernel, padding="same", name=name)(x)
    if batch_norm:
        x = keras.layers.BatchNormalization(**BN, name=f"{name}_bn")(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x)


def stage(x, index, kernels, width, batch_norm, lrn):
    for j, kernel in enumerate(kernels, start=1):
        x = conv_layer(x, width, kernel, f"conv{index}_{j}", batch_norm)
        if lrn and index == 1 and j == 1:
            # A-LRN: "the LRN layer parameters are those of (Krizhevsky et al., 2012)".
            x = LocalResponseNormalization(name="conv1_1_norm")(x)
    return keras.layers.MaxPooling2D(2, strides=2, name=f"pool{index}")(x)


@dataclasses.dataclass(frozen=True)
class Config:
    """One VGG: a Table 1 column, with the paper's LRN variant or torchvision's BN."""

    column: str
    lrn: bool = False
    batch_norm: bool = False


def body(x, config):
    endpoints = {}
    for index, (kernels, width) in enumerate(zip(CONFIGS[config.column], WIDTHS), start=1):
        x = endpoints[f"pool{index}"] = stage(
            x, index, kernels, width, config.batch_norm, config.lrn
        )
    return endpoints


def configure(row):
    # Section 3.1: fc6 and fc7 of 4096 with ReLU and dropout 0.5, classifier; the 7x7 grid.
    return _core.Architecture(
        row, default_size=224, min_size=32, head=_heads.fc_head(FINAL_GRID, FC_UNITS, DROPOUT)
    )


def summary(row):
    extras = (" with LRN after conv1_1" if row.lrn else "") + (
        ", BatchNorm after every conv (torchvision's *_bn)" if row.batch_norm else ""
    )
    return (
        f"VGG configuration {row.column}{extras}.\n\n"
        "224x224 input; the Flatten + fc6/fc7 head needs the 7x7 final grid."
    )


# Training: section 3.1, batch 256, momentum 0.9, weight decay 5e-4, LR 0.01 / 10 on plateau
# (3 times), 74 epochs. Augmentation: section 3.1, scale jittering, the shorter side rescaled to
# S ~ U[256, 512] and a random 224x224 crop, flipped. The paper also shifts the crops' RGB
# colour as AlexNet does (PCA lighting); not applied here yet (docs/roadmap.md).
AUGMENTATION = Augmentation(
    "vgg", "Simonyan & Zisserman 2015, section 3.1, scale jittering", "scale", scale=(256, 512)
)
RECIPE = Recipe("Simonyan & Zisserman 2015, section 3.1", "sgd", 0.01, 256, 74, "plateau", 5e-4)
VGG = _core.Family(
    "vgg", PAPER, configure, body, describe=summary, augmentation=AUGMENTATION, recipe=RECIPE
)

# Table 1's columns: A (11 weight layers), A-LRN, B (13), C (16, with 1x1s), D (16), E (19).
# Replica equivalence (keras_classics/training/equivalence.py): in float32, which agrees to
# under 1e-6 on AVX2 and AVX-512 CPUs and is faster; the body at 32 pixels under a pooled head
# (as AlexNet's).
VGG11 = VGG.register(
    "vgg11", "VGG11", Config("A"), replica_check=ReplicaCheck(32, False, "float32")
)
VGG11LRN = VGG.register("vgg11_lrn", "VGG11LRN", Config("A", lrn=True))
VGG13 = VGG.register("vgg13", "VGG13", Config("B"))
VGG16C = VGG.register("vgg16_c", "VGG16C", Config("C"))
VGG16 = VGG.register("vgg16", "VGG16", Config("D"))
VGG19 = VGG.register("vgg19", "VGG19", Config("E"))
VGG11BN = VGG.register("vgg11_bn", "VGG11BN", Config("A", batch_norm=True))
VGG13BN = VGG.register("vgg13_bn", "VGG13BN", Config("B", batch_norm=True))
VGG16BN = VGG.register("vgg16_bn", "VGG16BN", Config("D", batch_norm=True))
VGG19BN = VGG.register("vgg19_bn", "VGG19BN", Config("E", batch_norm=True))


# --- pretrained weights: conversion rows and weight cards (keras_classics/weights) ----------

# torchvision.models.VGG.classifier: Linear, ReLU, Dropout, Linear, ReLU, Dropout, Linear.
TORCHVISION_PLAN = torch_layout.plan(torch_layout.sequential_names((0, 3, 6)))
_KERAS_CONV = re.compile(r"conv(\d)_(\d)")
_KERAS_DENSE = {"fc6": "fc1", "fc7": "fc2", "predictions": "predictions"}


def keras_applications_plan(model):
    """Our conv{s}_{j}, fc6, fc7 are keras.applications' block{s}_conv{j}, fc1, fc2."""
    plan = {}
    for layer in model.layers:
        match = _KERAS_CONV.fullmatch(layer.name)
        source = f"block{match[1]}_conv{match[2]}" if match else _KERAS_DENSE.get(layer.name)
        if layer.weights and source:
            plan[layer.name] = keras_layout.variables(layer, source)
    return plan


conversion.register_conversions(
    *(
        torch_layout.row(
            "torchvision",
            f"vgg{depth}{bn}",
            f"vgg{depth}{bn}",
            TORCHVISION_PLAN,
            ("classifier.",),
            input=torch_layout.TORCHVISION_224,
        )
        for bn in ("", "_bn")
        for depth in (11, 13, 16, 19)
    ),
    *(
        keras_layout.row(
            f"VGG{depth}", f"vgg{depth}", keras_applications_plan, ("fc1/", "fc2/", "predictions/")
        )
        for depth in (16, 19)
    ),
)
cards.register_cards(
    cards.torchvision_card(
        "vgg11",
        "IMAGENET1K_V1",
        "vgg11-8a719046.pth",
        69.02,
        88.628,
        132_863_336,
        7.609,
        506.84,
        256,
        224,
        "tree/main/references/classification#alexnet-and-vgg",
    ),
    cards.torchvision_card(
        "vgg13",
        "IMAGENET1K_V1",
        "vgg13-19584684.pth",
        69.928,
        89.246,
        133_047_848,
        11.308,
        507.545,
        256,
        224,
        "tree/main/references/classification#alexnet-and-vgg",
    ),
    cards.torchvision_card(
        "vgg16",
        "IMAGENET1K_V1",
        "vgg16-397923af.pth",
        71.592,
        90.382,
        138_357_544,
        15.47,
        527.796,
        256,
        224,
        "tree/main/references/classification#alexnet-and-vgg",
    ),
    cards.torchvision_card(
        "vgg19",
        "IMAGENET1K_V1",
        "vgg19-dcbb9e9d.pth",
        72.376,
        90.876,
        143_667_240,
        19.632,
        548.051,
        256,
        224,
        "tree/main/references/classification#alexnet-and-vgg",
    ),
    cards.torchvision_card(
        "vgg11_bn",
        "IMAGENET1K_V1",
        "vgg11_bn-6002323d.pth",
        70.37,
        89.81,
        132_868_840,
        7.609,
        506.881,
        256,
        224,
        "tree/main/references/classification#alexnet-and-vgg",
    ),
    cards.torchvision_card(
        "vgg13_bn",
        "IMAGENET1K_V1",
        "vgg13_bn-abd245e5.pth",
        71.586,
        90.374,
        133_053_736,
        11.308,
        507.59,
        256,
        224,
        "tree/main/references/classification#alexnet-and-vgg",
    ),
    cards.torchvision_card(
        "vgg16_bn",
        "IMAGENET1K_V1",
        "vgg16_bn-6c64b313.pth",
        73.36,
        91.516,
        138_365_992,
        15.47,
        527.866,
        256,
        224,
        "tree/main/references/classification#alexnet-and-vgg",
    ),
    cards.torchvision_card(
        "vgg19_bn",
        "IMAGENET1K_V1",
        "vgg19_bn-c79401a0.pth",
        74.218,
        91.842,
        143_678_248,
        19.632,
        548.143,
        256,
        224,
        "tree/main/references/classification#alexnet-and-vgg",
    ),
    cards.keras_card(
        "VGG16",
        "vgg16/vgg16_weights_tf_dim_ordering_tf_kernels.h5",
        "64373286793e3c8b2b4e3219cbf3544b",
        71.3,
        90.1,
        528,
        "CC-BY-4.0 (VGG, Oxford)",
        138_357_544,
    ),
    cards.keras_card(
        "VGG19",
        "vgg19/vgg19_weights_tf_dim_ordering_tf_kernels.h5",
        "cbe5617147190e668d6c5d5026f83318",
        71.3,
        90.0,
        549,
        "CC-BY-4.0 (VGG, Oxford)",
        143_667_240,
    ),
)
