"""The weight cards: every upstream set of ImageNet weights our conversion tables can fill.

One table per source, one row per set of weights, the figures as the upstream publishes them
(tests/pretrained/test_cards.py checks them against torchvision's Weights enums, timm's
pretrained_cfg and keras.applications' source where those are installed):
- torchvision 0.29.1: `torchvision.models.get_model_weights(name)`, meta["_metrics"],
  "num_params", "_ops" (GFLOPS, which count multiply-adds), "_file_size" and the preset
  transforms' resize and crop (bilinear). IMAGENET1K_FEATURES (VGG-16 without a trained
  classifier, other mean and std) is left out.
- timm 1.0.31: pretrained_cfg (hf_hub_id, crop_pct, interpolation, mean/std, license) and
  the top-1/top-5 of results/results-imagenet.csv (huggingface/pytorch-image-models at
  aa4b5850c1543fa488abf260f18390eda46cf85d).
- keras.applications (Keras 3.15.1): the weight URLs and md5 hashes in
  keras/src/applications/*.py; the accuracy of keras.io/api/applications; the licences of the
  Keras 2 documentation (docs/templates/applications.md), which Keras 3 no longer states.

The default card of a model ("imagenet") is the most accurate whose licence allows commercial
use (keras_classics/pretrained/__init__.py, default_card).
"""

from keras_classics.convert import get_conversion
from keras_classics.pretrained.card import WeightCard

TORCHVISION_URL = "https://download.pytorch.org/models/"
TORCHVISION_RECIPES = "https://github.com/pytorch/vision/"
# torchvision states no licence for its weights ("may have their own licenses or terms and
# conditions derived from the dataset used for training"); its code is BSD-3-Clause.
TORCHVISION_LICENSE = "unstated (torchvision: terms of the training data; code BSD-3-Clause)"

# model, tag, file name, top-1, top-5, params, GMACs, MB, resize, crop, recipe (below
# TORCHVISION_RECIPES). The eval transform: bilinear resize of the shorter side, centre crop.
TORCHVISION = (
    (
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
    (
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
    (
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
    (
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
    (
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
    (
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
    (
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
    (
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
    (
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
    (
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
    (
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
    (
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
    (
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
    (
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
    (
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
    (
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
    (
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
    (
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
    (
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
    (
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
    (
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
    (
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
    (
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
    (
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
)

# tag, top-1, top-5, size, crop_pct, interpolation, licence (timm's pretrained_cfg). The files
# are the hub's model.safetensors of hf_hub_id "timm/<tag>"; timm publishes no hash for them.
TIMM = (
    ("resnext101_32x4d.gluon_in1k", 80.336, 94.908, 224, 0.875, "bicubic", "apache-2.0"),
    (
        "resnext101_32x4d.fb_ssl_yfcc100m_ft_in1k",
        80.936,
        95.732,
        224,
        0.875,
        "bilinear",
        "cc-by-nc-4.0",
    ),
    (
        "resnext101_32x4d.fb_swsl_ig1b_ft_in1k",
        83.268,
        96.76,
        224,
        0.875,
        "bilinear",
        "cc-by-nc-4.0",
    ),
    ("inception_v3.tv_in1k", 77.472, 93.468, 299, 0.875, "bicubic", "apache-2.0"),
    ("inception_v3.tf_in1k", 77.866, 93.644, 299, 0.875, "bicubic", "apache-2.0"),
    ("inception_v3.tf_adv_in1k", 77.598, 93.726, 299, 0.875, "bicubic", "apache-2.0"),
    ("inception_v3.gluon_in1k", 78.806, 94.372, 299, 0.875, "bicubic", "apache-2.0"),
    ("inception_v4.tf_in1k", 80.144, 94.982, 299, 0.875, "bicubic", "apache-2.0"),
    ("inception_resnet_v2.tf_in1k", 80.434, 95.312, 299, 0.8975, "bicubic", "apache-2.0"),
    ("inception_resnet_v2.tf_ens_adv_in1k", 79.998, 94.94, 299, 0.8975, "bicubic", "apache-2.0"),
)
TIMM_URL = "https://huggingface.co/timm/{tag}/resolve/main/model.safetensors"

KERAS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/"
# keras.applications name, file below KERAS_URL, md5, top-1, top-5, MB, licence.
KERAS_APPLICATIONS = (
    (
        "ResNet50",
        "resnet/resnet50_weights_tf_dim_ordering_tf_kernels.h5",
        "2cb95161c43110f7111970584f804107",
        74.9,
        92.1,
        98,
        "MIT (Kaiming He's release)",
    ),
    (
        "ResNet101",
        "resnet/resnet101_weights_tf_dim_ordering_tf_kernels.h5",
        "f1aeb4b969a6efcfb50fad2f0c20cfc5",
        76.4,
        92.8,
        171,
        "MIT (Kaiming He's release; stated for ResNet-50)",
    ),
    (
        "ResNet152",
        "resnet/resnet152_weights_tf_dim_ordering_tf_kernels.h5",
        "100835be76be38e30d865e96f2aaae62",
        76.6,
        93.1,
        232,
        "MIT (Kaiming He's release; stated for ResNet-50)",
    ),
    (
        "VGG16",
        "vgg16/vgg16_weights_tf_dim_ordering_tf_kernels.h5",
        "64373286793e3c8b2b4e3219cbf3544b",
        71.3,
        90.1,
        528,
        "CC-BY-4.0 (VGG, Oxford)",
    ),
    (
        "VGG19",
        "vgg19/vgg19_weights_tf_dim_ordering_tf_kernels.h5",
        "cbe5617147190e668d6c5d5026f83318",
        71.3,
        90.0,
        549,
        "CC-BY-4.0 (VGG, Oxford)",
    ),
    (
        "InceptionV3",
        "inception_v3/inception_v3_weights_tf_dim_ordering_tf_kernels.h5",
        "9a0d58056eeedaa3f26cb7ebd46da564",
        77.9,
        93.7,
        92,
        "Apache-2.0 (Keras 2 docs; fchollet/deep-learning-models says MIT)",
    ),
    (
        "InceptionResNetV2",
        "inception_resnet_v2/inception_resnet_v2_weights_tf_dim_ordering_tf_kernels.h5",
        "e693bd0210a403b3192acc6073ad2e96",
        80.3,
        95.3,
        215,
        "Apache-2.0 (TensorFlow models)",
    ),
)
KERAS_RECIPE = "https://keras.io/api/applications/"


def _torchvision(model, tag, file, top1, top5, params, gmacs, size_mb, resize, crop, recipe):
    row = get_conversion("torchvision", model)
    return WeightCard(
        model=model,
        source="torchvision",
        tag=tag,
        conversion=model,
        url=TORCHVISION_URL + file,
        # torch.hub's check: the file's sha256 starts with the hex digits after the last "-".
        hashes={"sha256": file.rsplit("-", 1)[1].split(".")[0]},
        license=TORCHVISION_LICENSE,
        top1=top1,
        top5=top5,
        input=row.input.replace(size=crop, crop_ratio=crop / resize),
        params=params,
        gmacs=gmacs,
        size_mb=size_mb,
        recipe=TORCHVISION_RECIPES + recipe,
    )


def _timm(tag, top1, top5, size, crop_pct, interpolation, license):  # noqa: A002
    row = get_conversion("timm", tag)
    return WeightCard(
        model=row.model,
        source="timm",
        tag=tag,
        conversion=tag,
        url=TIMM_URL.format(tag=tag),
        hashes={},
        license=license,
        top1=top1,
        top5=top5,
        input=row.input.replace(size=size, crop_ratio=crop_pct, interpolation=interpolation),
        params=_model_params(row),
        recipe=f"https://huggingface.co/timm/{tag}",
    )


def _keras(name, file, md5, top1, top5, size_mb, license):  # noqa: A002
    row = get_conversion("keras.applications", name)
    return WeightCard(
        model=row.model,
        source="keras.applications",
        tag="imagenet",
        conversion=name,
        url=KERAS_URL + file,
        hashes={"md5": md5},
        license=license,
        top1=top1,
        top5=top5,
        input=row.input,
        params=_model_params(row),
        size_mb=size_mb,
        recipe=KERAS_RECIPE,
    )


# Trainable parameters of our builder with a row's options where the upstream publishes no
# exact count (timm's CSV rounds to 0.01M, Keras' table to 0.1M and counts conv biases and BN
# statistics); tests/pretrained/test_cards.py checks them against timm's and keras.applications'
# models.
PARAMS = {
    "resnext101_32x4d": 44_177_704,
    "inception_v3": 23_834_568,
    "inception_v4": 42_679_816,
    "inception_resnet_v2": 55_843_464,
    "resnet50": 25_557_032,
    "resnet101": 44_549_160,
    "resnet152": 60_192_808,
    "vgg16": 138_357_544,
    "vgg19": 143_667_240,
}
# keras.applications' Inception nets have BN without gamma (bn_scale=False).
PARAMS_WITHOUT_BN_SCALE = {"inception_v3": 23_817_352, "inception_resnet_v2": 55_813_192}


def _model_params(row):
    if row.builder_kwargs.get("bn_scale") is False:
        return PARAMS_WITHOUT_BN_SCALE[row.model]
    return PARAMS[row.model]


def _table():
    cards = [
        *(_torchvision(*row) for row in TORCHVISION),
        *(_timm(*row) for row in TIMM),
        *(_keras(*row) for row in KERAS_APPLICATIONS),
    ]
    table = {}
    for card in cards:
        if card.name in table:
            raise ValueError(f"Weight card {card.name!r} is in the table twice.")
        table[card.name] = card
    return table


CARDS = _table()
