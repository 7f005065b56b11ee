"""Independent reference figures (../shared/REFERENCE.md), never produced by this package.

Every registered model must have a row in TRAINABLE_PARAMS: a new model without an
independent count fails test_every_model_has_a_reference.
"""

# Trainable parameters: torch `parameters()` / Keras trainable weights (REFERENCE.md section 1).
TRAINABLE_PARAMS = {
    "alexnet": 60_965_224,            # computed from the paper (2-GPU groups, 227 input)
    "vgg11": 132_863_336,             # paper Table 2, torchvision vgg11
    "vgg11_lrn": 132_863_336,         # = A: LRN has no weights
    "vgg13": 133_047_848,             # torchvision vgg13
    "vgg16_c": 133_638_952,           # computed from paper Table 1
    "vgg16": 138_357_544,             # torchvision, keras.applications
    "vgg19": 143_667_240,             # torchvision, keras.applications
    "vgg11_bn": 132_868_840,          # torchvision
    "vgg13_bn": 133_053_736,
    "vgg16_bn": 138_365_992,
    "vgg19_bn": 143_678_248,
    "resnet18": 11_689_512,           # torchvision (option B)
    "resnet34": 21_797_672,
    "resnet50": 25_557_032,
    "resnet101": 44_549_160,
    "resnet152": 60_192_808,
    "plainnet18": 11_515_688,         # = ResNet-18 option A: no shortcut has weights
    "plainnet34": 21_623_848,         # = ResNet-34 option A
    "resnext50_32x4d": 25_028_904,    # torchvision
    "resnext101_32x4d": 44_177_704,   # timm
    "resnext101_64x4d": 83_455_272,   # torchvision
    "resnext101_32x8d": 88_791_336,   # torchvision
}

# Builder options with their own reference counts: (name, kwargs, trainable params).
VARIANT_PARAMS = [
    ("alexnet", {"variant": "torchvision"}, 61_100_840),
    ("resnet18", {"shortcut": "A"}, 11_515_688),
    ("resnet18", {"shortcut": "C"}, 12_043_816),
    ("resnet34", {"shortcut": "A"}, 21_623_848),
    ("resnet34", {"shortcut": "C"}, 22_716_840),
]

# Multiply-adds x 1e9 at the default input size, as the papers report them (section 2).
# Checked within 3%.
GMACS = {
    "resnet18": 1.8, "resnet34": 3.6, "resnet50": 3.8, "resnet101": 7.6, "resnet152": 11.3,
    "vgg19": 19.6, "resnext50_32x4d": 4.2,
}

# Width of the pooled features (include_top=False, pooling="avg"): the last stage's channels
# in each paper's table.
FEATURE_WIDTH = {
    "alexnet": 256,
    **{n: 512 for n in ("vgg11", "vgg11_lrn", "vgg13", "vgg16_c", "vgg16", "vgg19",
                        "vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn")},
    "resnet18": 512, "resnet34": 512, "plainnet18": 512, "plainnet34": 512,
    **{n: 2048 for n in ("resnet50", "resnet101", "resnet152", "resnext50_32x4d",
                         "resnext101_32x4d", "resnext101_64x4d", "resnext101_32x8d")},
}
