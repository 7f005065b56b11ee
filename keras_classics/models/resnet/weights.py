"""ResNet, plain nets, ResNeXt and SENet: the conversion rows and weight cards (torchvision,
timm, keras.applications), read by keras_classics/weights/."""

import dataclasses
import re

import keras
import numpy as np

from keras_classics.models.resnet.architecture import BN
from keras_classics.weights import cards, conversion, keras_layout, torch_layout
from keras_classics.weights.conversion import Take

# --- pretrained weights: conversion rows and weight cards (keras_classics/weights) ----------

_TORCHVISION_LAYER = re.compile(r"conv(\d)_block(\d+)_(\d)_(conv|bn)")
_SE_LAYER = re.compile(r"conv(\d)_block(\d+)_se")
# timm's deep stem (SENet-154): conv1 = Sequential(conv, bn, act, conv, bn, act, conv), bn1.
_DEEP_STEM = {
    "conv1_1_conv": "conv1.0",
    "conv1_1_bn": "conv1.1",
    "conv1_2_conv": "conv1.3",
    "conv1_2_bn": "conv1.4",
    "conv1_3_conv": "conv1.6",
    "conv1_3_bn": "bn1",
}


def torchvision_module(name):
    """Our ResNet layer name (keras.applications naming) -> torchvision's module.

    conv1_conv/bn -> conv1/bn1; conv{s}_block{b}_{k}_conv/bn -> layer{s-1}.{b-1}.conv{k}/bn{k};
    the projection shortcut conv{s}_block{b}_0_* -> layer{s-1}.{b-1}.downsample.0/1;
    predictions -> fc. timm's ResNet (the same names) adds a block's squeeze-excitation
    conv{s}_block{b}_se -> layer{s-1}.{b-1}.se and the deep stem's conv1_{k}_conv/bn ->
    conv1.0/1/3/4/6, bn1. Returns None for a layer torchvision does not have.
    """
    if name in ("conv1_conv", "conv1_bn", "predictions"):
        return {"conv1_conv": "conv1", "conv1_bn": "bn1", "predictions": "fc"}[name]
    if name in _DEEP_STEM:
        return _DEEP_STEM[name]
    se = _SE_LAYER.fullmatch(name)
    if se:
        return f"layer{int(se.group(1)) - 1}.{int(se.group(2)) - 1}.se"
    match = _TORCHVISION_LAYER.fullmatch(name)
    if not match:
        return None
    stage, block, index, kind = match.groups()
    prefix = f"layer{int(stage) - 1}.{int(block) - 1}"
    if index == "0":
        return f"{prefix}.downsample.{0 if kind == 'conv' else 1}"
    return f"{prefix}.{kind}{index}"


def torchvision_names(model):
    names = {layer.name: torchvision_module(layer.name) for layer in model.layers if layer.weights}
    return {k: v for k, v in names.items() if v is not None}


TORCHVISION_PLAN = torch_layout.plan(torchvision_names)

_LEGACY_STEM = re.compile(r"conv1(?:_(\d))?_(conv|bn)")


def legacy_senet_module(name):
    """Our layer name -> the module of timm's legacy SENet (Cadene's port of the authors'
    Caffe models): the stem is layer0.conv1/bn1 (layer0.conv{k}/bn{k} for SENet-154's three
    convs), a block's SE is `se_module`, the classifier `last_linear`; the blocks are named
    as torchvision's."""
    stem = _LEGACY_STEM.fullmatch(name)
    if stem:
        index, kind = stem.group(1) or "1", stem.group(2)
        return f"layer0.{'conv' if kind == 'conv' else 'bn'}{index}"
    if name == "predictions":
        return "last_linear"
    module = torchvision_module(name)
    return module[: -len(".se")] + ".se_module" if name.endswith("_se") else module


LEGACY_SENET_PLAN = torch_layout.plan(
    lambda model: {
        layer.name: legacy_senet_module(layer.name) for layer in model.layers if layer.weights
    }
)

# keras.applications' ResNet is the paper's Caffe release: stride in the first 1x1 of a
# bottleneck (our downsample_at="1x1"), a bias on every conv, BN epsilon 1.001e-5, caffe
# preprocessing (BGR, mean pixel subtracted). Our ResNet has no conv biases and epsilon 1e-5;
# both differences fold exactly into the BN that follows each conv, at inference:
#   BN(conv(x) + b) with mean m:  the same as BN(conv(x)) with mean m - b;
#   (x - m) / sqrt(v + 1.001e-5):  the same as (x - m) / sqrt(v' + 1e-5), v' = v + 1e-8.
# In training BN normalises with batch statistics, where a constant bias cancels, so the plain
# builder loses nothing and needs no conv-bias option. Layer names are keras.applications' own.
KERAS_BN_EPSILON = 1.001e-5


def fold_conv_bias(mean, bias):
    return (np.float64(mean) - bias).astype(np.float32)


def fold_epsilon(variance):
    shift = KERAS_BN_EPSILON - BN["epsilon"]
    return (np.float64(variance) + shift).astype(np.float32)


def keras_applications_plan(model):
    """Same layer names; each BN takes its conv's bias into its mean, and the epsilon shift."""
    plan = {}
    for layer in model.layers:
        if not layer.weights:
            continue
        if isinstance(layer, keras.layers.BatchNormalization):
            conv = layer.name[: -len("_bn")] + "_conv"
            bn = layer.name
            plan[bn] = (
                Take((f"{bn}/gamma",)),
                Take((f"{bn}/beta",)),
                Take((f"{bn}/moving_mean", f"{conv}/bias"), fold_conv_bias),
                Take((f"{bn}/moving_variance",), fold_epsilon),
            )
        else:
            plan[layer.name] = keras_layout.variables(layer, layer.name)
    return plan


# ResNet v1.5: torchvision (and timm) stride the bottleneck's 3x3 conv, not the paper's first
# 1x1. ResNeXt builders stride the 3x3 by default (ResNeXt paper); recorded explicitly.
V15 = dict(downsample_at="3x3")


def _torchvision(name, **options):
    return torch_layout.row(
        "torchvision",
        name,
        name,
        TORCHVISION_PLAN,
        ("fc.",),
        input=torch_layout.TORCHVISION_224,
        **options,
    )


conversion.register_conversions(
    _torchvision("resnet18"),
    _torchvision("resnet34"),
    *(_torchvision(name, **V15) for name in ("resnet50", "resnet101", "resnet152")),
    *(
        _torchvision(name, **V15)
        for name in ("resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d")
    ),
    # timm's ResNe(X)t uses torchvision's module names; resnext101_32x4d's default tag
    # (fb_ssl_yfcc100m_ft_in1k, as fb_swsl) resizes bilinearly, its gluon_in1k tag bicubically
    # (the cards say which).
    torch_layout.row(
        "timm",
        "resnext101_32x4d",
        "resnext101_32x4d",
        TORCHVISION_PLAN,
        ("fc.",),
        input=torch_layout.TORCHVISION_224,
        **V15,
    ),
    # timm's SE-ResNe(X)ts and SENet-154 are its ResNet class with attn_layer="se" (torchvision's
    # names and "v1.5" 3x3 striding); its legacy_* are Cadene's SENet class, which carries the
    # authors' Caffe weights: ceil-mode pool1 and, for SE-ResNets, strided first 1x1s.
    *(
        torch_layout.row(
            "timm",
            name,
            name,
            TORCHVISION_PLAN,
            ("fc.",),
            # The default tag's pretrained_cfg: bicubic; seresnet50.a1_in1k crops 0.95.
            input=torch_layout.TORCHVISION_224.replace(interpolation="bicubic", crop_ratio=crop),
            **V15,
        )
        # timm's seresnet101 and seresnet152 have no weights ("untrained"): no rows.
        for name, crop in (
            ("seresnet50", 0.95),
            ("seresnext50_32x4d", 0.875),
            ("seresnext101_32x4d", 0.875),
            ("senet154", 0.875),
        )
    ),
    *(
        torch_layout.row(
            "timm",
            f"legacy_{name}",
            name,
            LEGACY_SENET_PLAN,
            ("last_linear.",),
            input=torch_layout.TORCHVISION_224,
            pool1="ceil",
            downsample_at="1x1" if name.startswith("seresnet") else "3x3",
        )
        for name in (
            "seresnet50",
            "seresnet101",
            "seresnet152",
            "seresnext50_32x4d",
            "seresnext101_32x4d",
            "senet154",
        )
    ),
    *(
        keras_layout.row(
            f"ResNet{depth}",
            f"resnet{depth}",
            keras_applications_plan,
            ("predictions/",),
            builder_kwargs=dict(downsample_at="1x1"),
        )
        for depth in (50, 101, 152)
    ),
)
# timm's legacy_* weights: the authors' Caffe models (github.com/hujie-frank/SENet) as
# Cadene's pretrainedmodels converted them; timm's pretrained_cfg gives no hub id for them, but
# these GitHub release files.
_TIMM_RELEASES = "https://github.com/rwightman/pytorch-image-models/releases/download/"
_LEGACY_FILES = {
    "seresnet50": "v0.1-cadene/se_resnet50-ce0d4300.pth",
    "seresnet101": "v0.1-cadene/se_resnet101-7e38fcc6.pth",
    "seresnet152": "v0.1-cadene/se_resnet152-d17c99b7.pth",
    "seresnext50_32x4d": "v0.1-weights/legacy_se_resnext50_32x4d-f3651bad.pth",
    "seresnext101_32x4d": "v0.1-weights/legacy_se_resnext101_32x4d-37725eac.pth",
    "senet154": "v0.1-weights/legacy_senet154-e9eb9fe6.pth",
}


def _legacy_card(model, top1, top5, params):
    """timm's legacy_{model}.in1k (224, crop 0.875, bilinear, as its pretrained_cfg)."""
    card = cards.timm_card(
        f"legacy_{model}.in1k", top1, top5, 224, 0.875, "bilinear", "apache-2.0", params
    )
    return dataclasses.replace(
        card,
        url=_TIMM_RELEASES + _LEGACY_FILES[model],
        recipe="https://github.com/hujie-frank/SENet",
    )


cards.register_cards(
    cards.torchvision_card(
        "resnet18",
        "IMAGENET1K_V1",
        "resnet18-f37072fd.pth",
        69.758,
        89.078,
        11_689_512,
        1.814,
        44.661,
        256,
        224,
        "tree/main/references/classification#resnet",
    ),
    cards.torchvision_card(
        "resnet34",
        "IMAGENET1K_V1",
        "resnet34-b627a593.pth",
        73.314,
        91.42,
        21_797_672,
        3.664,
        83.275,
        256,
        224,
        "tree/main/references/classification#resnet",
    ),
    cards.torchvision_card(
        "resnet50",
        "IMAGENET1K_V1",
        "resnet50-0676ba61.pth",
        76.13,
        92.862,
        25_557_032,
        4.089,
        97.781,
        256,
        224,
        "tree/main/references/classification#resnet",
    ),
    cards.torchvision_card(
        "resnet50",
        "IMAGENET1K_V2",
        "resnet50-11ad3fa6.pth",
        80.858,
        95.434,
        25_557_032,
        4.089,
        97.79,
        232,
        224,
        "issues/3995#issuecomment-1013906621",
    ),
    cards.torchvision_card(
        "resnet101",
        "IMAGENET1K_V1",
        "resnet101-63fe2227.pth",
        77.374,
        93.546,
        44_549_160,
        7.801,
        170.511,
        256,
        224,
        "tree/main/references/classification#resnet",
    ),
    cards.torchvision_card(
        "resnet101",
        "IMAGENET1K_V2",
        "resnet101-cd907fc2.pth",
        81.886,
        95.78,
        44_549_160,
        7.801,
        170.53,
        232,
        224,
        "issues/3995#new-recipe",
    ),
    cards.torchvision_card(
        "resnet152",
        "IMAGENET1K_V1",
        "resnet152-394f9c45.pth",
        78.312,
        94.046,
        60_192_808,
        11.514,
        230.434,
        256,
        224,
        "tree/main/references/classification#resnet",
    ),
    cards.torchvision_card(
        "resnet152",
        "IMAGENET1K_V2",
        "resnet152-f82ba261.pth",
        82.284,
        96.002,
        60_192_808,
        11.514,
        230.474,
        232,
        224,
        "issues/3995#new-recipe",
    ),
    cards.torchvision_card(
        "resnext50_32x4d",
        "IMAGENET1K_V1",
        "resnext50_32x4d-7cdf4587.pth",
        77.618,
        93.698,
        25_028_904,
        4.23,
        95.789,
        256,
        224,
        "tree/main/references/classification#resnext",
    ),
    cards.torchvision_card(
        "resnext50_32x4d",
        "IMAGENET1K_V2",
        "resnext50_32x4d-1a0047aa.pth",
        81.198,
        95.34,
        25_028_904,
        4.23,
        95.833,
        232,
        224,
        "issues/3995#new-recipe",
    ),
    cards.torchvision_card(
        "resnext101_32x8d",
        "IMAGENET1K_V1",
        "resnext101_32x8d-8ba56ff5.pth",
        79.312,
        94.526,
        88_791_336,
        16.414,
        339.586,
        256,
        224,
        "tree/main/references/classification#resnext",
    ),
    cards.torchvision_card(
        "resnext101_32x8d",
        "IMAGENET1K_V2",
        "resnext101_32x8d-110c445d.pth",
        82.834,
        96.228,
        88_791_336,
        16.414,
        339.673,
        232,
        224,
        "issues/3995#new-recipe-with-fixres",
    ),
    cards.torchvision_card(
        "resnext101_64x4d",
        "IMAGENET1K_V1",
        "resnext101_64x4d-173b62eb.pth",
        83.246,
        96.454,
        83_455_272,
        15.46,
        319.318,
        232,
        224,
        "pull/5935",
    ),
    cards.timm_card(
        "resnext101_32x4d.gluon_in1k",
        80.336,
        94.908,
        224,
        0.875,
        "bicubic",
        "apache-2.0",
        44_177_704,
    ),
    cards.timm_card(
        "resnext101_32x4d.fb_ssl_yfcc100m_ft_in1k",
        80.936,
        95.732,
        224,
        0.875,
        "bilinear",
        "cc-by-nc-4.0",
        44_177_704,
    ),
    cards.timm_card(
        "resnext101_32x4d.fb_swsl_ig1b_ft_in1k",
        83.268,
        96.76,
        224,
        0.875,
        "bilinear",
        "cc-by-nc-4.0",
        44_177_704,
    ),
    cards.keras_card(
        "ResNet50",
        "resnet/resnet50_weights_tf_dim_ordering_tf_kernels.h5",
        "2cb95161c43110f7111970584f804107",
        74.9,
        92.1,
        98,
        "MIT (Kaiming He's release)",
        25_557_032,
    ),
    cards.keras_card(
        "ResNet101",
        "resnet/resnet101_weights_tf_dim_ordering_tf_kernels.h5",
        "f1aeb4b969a6efcfb50fad2f0c20cfc5",
        76.4,
        92.8,
        171,
        "MIT (Kaiming He's release; stated for ResNet-50)",
        44_549_160,
    ),
    cards.keras_card(
        "ResNet152",
        "resnet/resnet152_weights_tf_dim_ordering_tf_kernels.h5",
        "100835be76be38e30d865e96f2aaae62",
        76.6,
        93.1,
        232,
        "MIT (Kaiming He's release; stated for ResNet-50)",
        60_192_808,
    ),
    # timm's results CSV (results-imagenet.csv) at each tag's pretrained_cfg input.
    cards.timm_card(
        "seresnet50.ra2_in1k", 80.26, 95.068, 224, 0.875, "bicubic", "apache-2.0", 28_088_024
    ),
    cards.timm_card(
        "seresnet50.a1_in1k", 80.012, 94.704, 224, 0.95, "bicubic", "apache-2.0", 28_088_024
    ),
    cards.timm_card(
        "seresnet50.a2_in1k", 80.102, 94.72, 224, 0.95, "bicubic", "apache-2.0", 28_088_024
    ),
    cards.timm_card(
        "seresnet50.a3_in1k", 75.104, 92.096, 160, 0.95, "bicubic", "apache-2.0", 28_088_024
    ),
    cards.timm_card(
        "seresnext50_32x4d.racm_in1k",
        81.268,
        95.624,
        224,
        0.875,
        "bicubic",
        "apache-2.0",
        27_559_896,
    ),
    cards.timm_card(
        "seresnext50_32x4d.gluon_in1k",
        79.916,
        94.816,
        224,
        0.875,
        "bicubic",
        "apache-2.0",
        27_559_896,
    ),
    cards.timm_card(
        "seresnext101_32x4d.gluon_in1k",
        80.886,
        95.268,
        224,
        0.875,
        "bicubic",
        "apache-2.0",
        48_955_416,
    ),
    cards.timm_card(
        "senet154.gluon_in1k", 81.258, 95.358, 224, 0.875, "bicubic", "apache-2.0", 115_088_984
    ),
    _legacy_card("seresnet50", 77.65, 93.732, 28_088_024),
    _legacy_card("seresnet101", 78.37, 94.264, 49_326_872),
    _legacy_card("seresnet152", 78.662, 94.37, 66_821_848),
    _legacy_card("seresnext50_32x4d", 79.08, 94.428, 27_559_896),
    _legacy_card("seresnext101_32x4d", 80.274, 95.032, 48_955_416),
    _legacy_card("senet154", 81.32, 95.502, 115_088_984),
)
