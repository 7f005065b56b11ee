"""EfficientNet and EfficientNet-Lite: the conversion rows and weight cards (torchvision,
timm, keras.applications), read by keras_classics/weights/."""

import dataclasses
import re

from keras_classics.layers.squeeze_excite import SqueezeExcite
from keras_classics.models.efficientnet.architecture import STAGES
from keras_classics.models.mobilenet.weights import torch_plan
from keras_classics.records.input_config import InputConfig
from keras_classics.weights import cards, conversion, keras_layout, torch_layout

# --- conversion: torchvision, timm, keras.applications (keras_classics/weights) ------------

_BLOCK = re.compile(r"block(\d+)([a-z])_")


def _blocks(names):
    """{our block prefix: (stage 1-7, index 0 ...)} of the layer names present."""
    found = {}
    for name in names:
        match = _BLOCK.match(name)
        if match:
            found[match[0]] = (int(match[1]), ord(match[2]) - ord("a"))
    return found


def _weighted(model):
    return {layer.name for layer in model.layers if layer.weights}


def torchvision_names(model):
    """stem -> features.0.{0, 1}; block{s}{j} -> features.{s}.{j}.block.{k}, k counting its
    units ([expand], depthwise, SE (fc1, fc2), project; each conv .0, its BN .1); top ->
    features.8.{0, 1}; predictions -> classifier.1."""
    present = _weighted(model)
    names = {
        "stem_conv": "features.0.0",
        "stem_bn": "features.0.1",
        "top_conv": f"features.{len(STAGES) + 1}.0",
        "top_bn": f"features.{len(STAGES) + 1}.1",
        "predictions": "classifier.1",
    }
    for prefix, (stage, index) in _blocks(present).items():
        units = [u for u in ("expand", "dw", "se", "project") if _unit(prefix, u) in present]
        for k, unit in enumerate(units):
            module = f"features.{stage}.{index}.block.{k}"
            if unit == "se":
                names[f"{prefix}se"] = module
            else:
                conv, bn = _UNIT_LAYERS[unit]
                names[prefix + conv] = f"{module}.0"
                names[prefix + bn] = f"{module}.1"
    return {k: v for k, v in names.items() if k in present}


# A unit's (conv, BN) layer suffixes.
_UNIT_LAYERS = {
    "expand": ("expand_conv", "expand_bn"),
    "dw": ("dwconv", "bn"),
    "project": ("project_conv", "project_bn"),
}


def _unit(prefix, unit):
    return prefix + ("se" if unit == "se" else _UNIT_LAYERS[unit][0])


def timm_names(model):
    """stem -> conv_stem, bn1; block{s}{j} -> blocks.{s-1}.{j}: an expanding block is timm's
    InvertedResidual (conv_pw, bn1, conv_dw, bn2, se, conv_pwl, bn3), a block without
    expansion its DepthwiseSeparableConv (conv_dw, bn1, se, conv_pw, bn2); SE -> se.conv_reduce,
    se.conv_expand; top -> conv_head, bn2; predictions -> classifier."""
    present = _weighted(model)
    names = {
        "stem_conv": "conv_stem",
        "stem_bn": "bn1",
        "top_conv": "conv_head",
        "top_bn": "bn2",
        "predictions": "classifier",
    }
    for prefix, (stage, index) in _blocks(present).items():
        module = f"blocks.{stage - 1}.{index}"
        if f"{prefix}expand_conv" in present:
            parts = {
                "expand_conv": "conv_pw",
                "expand_bn": "bn1",
                "dwconv": "conv_dw",
                "bn": "bn2",
                "project_conv": "conv_pwl",
                "project_bn": "bn3",
            }
        else:
            parts = {
                "dwconv": "conv_dw",
                "bn": "bn1",
                "project_conv": "conv_pw",
                "project_bn": "bn2",
            }
        for ours, theirs in parts.items():
            names[prefix + ours] = f"{module}.{theirs}"
        names[f"{prefix}se"] = (f"{module}.se.conv_reduce", f"{module}.se.conv_expand")
    return {k: v for k, v in names.items() if k in present}


def keras_plan(model):
    """Same layer names; our SqueezeExcite reads keras.applications' se_reduce and se_expand
    1x1 convolutions."""
    plan = {}
    for layer in model.layers:
        if not layer.weights:
            continue
        if isinstance(layer, SqueezeExcite):
            plan[layer.name] = keras_layout.squeeze_excite_takes(
                f"{layer.name}_reduce", f"{layer.name}_expand"
            )
        else:
            plan[layer.name] = keras_layout.variables(layer, layer.name)
    return plan


def _drop_normalization(state):
    """keras.applications' model normalises its input inside (Rescaling 1/255, then a
    Normalization layer whose weights hold the ImageNet mean and, in its published files, the
    std where the variance belongs: tensorflow/tensorflow#49930, which its builder corrects
    with a further Rescaling by 1/sqrt(std) when weights="imagenet"). Together they are
    ImageNet mean/std normalisation, which our models take outside (preprocess_input "torch"):
    the Normalization layer's variables are left out."""
    return {k: v for k, v in state.items() if not re.match(r"normalization(_\d+)?/", k)}


# torchvision's EfficientNet weights: bicubic resize, ImageNet mean/std (its transforms).
TORCHVISION_BICUBIC = InputConfig("torch", 224, interpolation="bicubic")
# timm's tf_efficientnet_* configs: ImageNet mean/std (the AdvProp "ap" weights: Inception's
# [-1, 1], their own rows), bicubic, each row's size and crop; Lite mean = std = 0.5 ([-1, 1]).
# (size, crop) of B0 ... B7; (size, crop, interpolation, top-1, top-5) of Lite0 ... Lite4
# (results-imagenet.csv's accuracies, for the cards below).
TIMM_SIZES = ((224, 0.875), (240, 0.882), (260, 0.890), (300, 0.904), (380, 0.922))
TIMM_SIZES += ((456, 0.934), (528, 0.942), (600, 0.949))
TIMM_LITE = (
    (224, 0.875, "bicubic", 74.846, 92.180),
    (240, 0.882, "bicubic", 76.674, 93.232),
    (260, 0.890, "bicubic", 77.470, 93.756),
    (300, 0.904, "bilinear", 79.808, 94.908),
    (380, 0.920, "bilinear", 81.540, 95.668),
)


def timm_input(mode, b):
    size, crop = TIMM_SIZES[b]
    return InputConfig(mode, size, crop_ratio=crop, interpolation="bicubic")


def timm_lite_input(n):
    size, crop, interpolation, _, _ = TIMM_LITE[n]
    return InputConfig("tf", size, crop_ratio=crop, interpolation=interpolation)


TF_SAME = dict(convention="tf", bn_epsilon=1e-3)
# keras.applications documents each row's resolution as its input size (its builders' default).
KERAS_SIZES = (224, 240, 260, 300, 380, 456, 528, 600)

_B = range(8)
conversion.register_conversions(
    *(
        torch_layout.row(
            "torchvision",
            f"efficientnet_b{b}",
            f"efficientnet_b{b}",
            torch_plan(torchvision_names),
            ("classifier.",),
            input=TORCHVISION_BICUBIC,
            convention="torch",
            # torchvision's b0 ... b4 use torch's BN epsilon, its b5 ... b7 TensorFlow's.
            bn_epsilon=1e-5 if b < 5 else 1e-3,
        )
        for b in _B
    ),
    *(
        torch_layout.row(
            "timm",
            f"tf_efficientnet_b{b}{tag}",
            f"efficientnet_b{b}",
            torch_plan(timm_names),
            ("classifier.",),
            input=timm_input(mode, b),
            **TF_SAME,
        )
        # The AdvProp weights ("ap") take Inception's [-1, 1] inputs, the others ImageNet's.
        for tag, mode in (("", "torch"), (".ap_in1k", "tf"))
        for b in _B
    ),
    *(
        torch_layout.row(
            "timm",
            f"tf_efficientnet_lite{n}",
            f"efficientnet_lite{n}",
            torch_plan(timm_names),
            ("classifier.",),
            input=timm_lite_input(n),
            **TF_SAME,
        )
        for n in range(5)
    ),
    *(
        keras_layout.row(
            f"EfficientNetB{b}",
            f"efficientnet_b{b}",
            keras_plan,
            ("predictions/",),
            input=InputConfig("torch", size),
            rename=_drop_normalization,
            builder_kwargs=TF_SAME,
        )
        for b, size in enumerate(KERAS_SIZES)
    ),
)

# --- weight cards -------------------------------------------------------------------------

# Trainable parameters (tests/references.py has the independent counts).
PARAMS = (5_288_548, 7_794_184, 9_109_994, 12_233_232, 19_341_616, 30_389_784, 43_040_704)
PARAMS += (66_347_960,)
LITE_PARAMS = (4_652_008, 5_416_680, 6_092_072, 8_197_096, 13_006_568)

# torchvision's Weights enums (torchvision 0.29): file, acc@1, acc@5, _ops (GMACs), _file_size
# (MB), resize, crop, and the recipe link; all bicubic but b1's V2 (bilinear).
_TORCHVISION = (
    (
        0,
        "IMAGENET1K_V1",
        "efficientnet_b0_rwightman-7f5810bc.pth",
        77.692,
        93.532,
        0.386,
        20.451,
        256,
        224,
    ),
    (
        1,
        "IMAGENET1K_V1",
        "efficientnet_b1_rwightman-bac287d4.pth",
        78.642,
        94.186,
        0.687,
        30.134,
        256,
        240,
    ),
    (1, "IMAGENET1K_V2", "efficientnet_b1-c27df63c.pth", 79.838, 94.934, 0.687, 30.136, 255, 240),
    (
        2,
        "IMAGENET1K_V1",
        "efficientnet_b2_rwightman-c35c1473.pth",
        80.608,
        95.310,
        1.088,
        35.174,
        288,
        288,
    ),
    (
        3,
        "IMAGENET1K_V1",
        "efficientnet_b3_rwightman-b3899882.pth",
        82.008,
        96.054,
        1.827,
        47.184,
        320,
        300,
    ),
    (
        4,
        "IMAGENET1K_V1",
        "efficientnet_b4_rwightman-23ab8bcd.pth",
        83.384,
        96.594,
        4.394,
        74.489,
        384,
        380,
    ),
    (
        5,
        "IMAGENET1K_V1",
        "efficientnet_b5_lukemelas-1a07897c.pth",
        83.444,
        96.628,
        10.266,
        116.864,
        456,
        456,
    ),
    (
        6,
        "IMAGENET1K_V1",
        "efficientnet_b6_lukemelas-24a108a5.pth",
        84.008,
        96.916,
        19.068,
        165.362,
        528,
        528,
    ),
    (
        7,
        "IMAGENET1K_V1",
        "efficientnet_b7_lukemelas-c5b4e57e.pth",
        84.122,
        96.908,
        37.746,
        254.675,
        600,
        600,
    ),
)


def _torchvision_card(b, tag, file, top1, top5, gmacs, size_mb, resize, crop):
    recipe = (
        "issues/3995#new-recipe-with-lr-wd-crop-tuning"
        if tag == "IMAGENET1K_V2"
        else "tree/main/references/classification#efficientnet-v1"
    )
    card = cards.torchvision_card(
        f"efficientnet_b{b}", tag, file, top1, top5, PARAMS[b], gmacs, size_mb, resize, crop, recipe
    )
    if tag == "IMAGENET1K_V2":
        card = dataclasses.replace(card, input=card.input.replace(interpolation="bilinear"))
    return card


# timm's results-imagenet.csv (huggingface/pytorch-image-models results/): tag, top-1, top-5 at
# the pretrained config's size and crop (bicubic, but lite3 and lite4 bilinear). B6 and B7
# have no "in1k" tag, only B5 and B7 an "ra_in1k" (RandAugment) one.
_TIMM = {
    "aa_in1k": (
        (76.882, 93.270),
        (78.840, 94.202),
        (80.074, 94.906),
        (81.648, 95.724),
        (83.040, 96.298),
        (83.696, 96.712),
        (84.124, 96.890),
        (84.424, 96.908),
    ),
    "ap_in1k": (
        (77.100, 93.258),
        (79.288, 94.316),
        (80.300, 95.032),
        (81.842, 95.614),
        (83.246, 96.392),
        (84.258, 96.984),
        (84.794, 97.138),
        (85.132, 97.256),
    ),
    "ns_jft_in1k": (
        (78.680, 94.372),
        (81.388, 95.756),
        (82.412, 96.238),
        (84.054, 96.926),
        (85.156, 97.482),
        (86.096, 97.744),
        (86.476, 97.864),
        (86.850, 98.080),
    ),
    "in1k": (
        (76.542, 93.008),
        (78.546, 94.096),
        (79.612, 94.714),
        (80.878, 95.308),
        (82.598, 96.132),
        (83.170, 96.534),
    ),
    "ra_in1k": {5: (83.834, 96.764), 7: (84.926, 97.220)},
}


def _timm_cards():
    for tag, figures in _TIMM.items():
        items = figures.items() if isinstance(figures, dict) else enumerate(figures)
        for b, (top1, top5) in items:
            size, crop = TIMM_SIZES[b]
            yield cards.timm_card(
                f"tf_efficientnet_b{b}.{tag}",
                top1,
                top5,
                size,
                crop,
                "bicubic",
                "apache-2.0",
                PARAMS[b],
            )
    for n, (size, crop, interpolation, top1, top5) in enumerate(TIMM_LITE):
        yield cards.timm_card(
            f"tf_efficientnet_lite{n}.in1k",
            top1,
            top5,
            size,
            crop,
            interpolation,
            "apache-2.0",
            LITE_PARAMS[n],
        )


# keras.applications' files (its source's BASE_WEIGHTS_PATH, a bucket other than its other
# models', and WEIGHTS_HASHES' include_top md5); accuracies and sizes from keras.io's
# applications table (the paper's Table 2 figures, at each row's resolution).
KERAS_URL = "https://storage.googleapis.com/keras-applications/"
_KERAS = (
    ("902e53a9f72be733fc0bcb005b3ebbac", 77.1, 93.3, 29),
    ("1d254153d4ab51201f1646940f018540", 79.1, 94.4, 31),
    ("b15cce36ff4dcbd00b6dd88e7857a6ad", 80.1, 94.9, 36),
    ("ffd1fdc53d0ce67064dc6a9c7960ede0", 81.6, 95.7, 48),
    ("18c95ad55216b8f92d7e70b3a046e2fc", 82.9, 96.4, 75),
    ("ace28f2a6363774853a83a0b21b9421a", 83.6, 96.7, 118),
    ("165f6e37dce68623721b423839de8be5", 84.0, 96.8, 166),
    ("8c03f828fec3ef71311cd463b6759d99", 84.3, 97.0, 256),
)
KERAS_LICENSE = "Apache-2.0 (the tensorflow/tpu EfficientNet release)"


def _keras_card(b, md5, top1, top5, size_mb):
    card = cards.keras_card(
        f"EfficientNetB{b}",
        f"efficientnetb{b}.h5",
        md5,
        top1,
        top5,
        size_mb,
        KERAS_LICENSE,
        PARAMS[b],
    )
    return dataclasses.replace(card, url=f"{KERAS_URL}efficientnetb{b}.h5")


cards.register_cards(
    *(_torchvision_card(*entry) for entry in _TORCHVISION),
    *_timm_cards(),
    *(_keras_card(b, *entry) for b, entry in enumerate(_KERAS)),
)
