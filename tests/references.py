"""Independent reference figures (torchvision, timm and keras.applications counts and the
papers' tables), never produced by this package.

Every registered model must have a row in TRAINABLE_PARAMS: a new model without an
independent count fails test_every_model_has_independent_references (tests/test_models.py).
"""

CIFAR_NETS = [
    f"{kind}{depth}_cifar" for kind in ("resnet", "plain") for depth in (20, 32, 44, 56, 110)
]

# Trainable parameters: torch `parameters()` / Keras trainable weights, counted on the reference
# library's own model.
TRAINABLE_PARAMS = {
    "alexnet": 60_965_224,  # computed from the paper (2-GPU groups, 227 input)
    "vgg11": 132_863_336,  # paper Table 2, torchvision vgg11
    "vgg11_lrn": 132_863_336,  # = A: LRN has no weights
    "vgg13": 133_047_848,  # torchvision vgg13
    "vgg16_c": 133_638_952,  # computed from paper Table 1
    "vgg16": 138_357_544,  # torchvision, keras.applications
    "vgg19": 143_667_240,  # torchvision, keras.applications
    "vgg11_bn": 132_868_840,  # torchvision
    "vgg13_bn": 133_053_736,
    "vgg16_bn": 138_365_992,
    "vgg19_bn": 143_678_248,
    "resnet18": 11_689_512,  # torchvision (option B)
    "resnet34": 21_797_672,
    "resnet50": 25_557_032,
    "resnet101": 44_549_160,
    "resnet152": 60_192_808,
    "plainnet18": 11_515_688,  # = ResNet-18 option A: no shortcut has weights
    "plainnet34": 21_623_848,  # = ResNet-34 option A
    "resnext50_32x4d": 25_028_904,  # torchvision
    "resnext101_32x4d": 44_177_704,  # timm
    "resnext101_64x4d": 83_455_272,  # torchvision
    "resnext101_32x8d": 88_791_336,  # torchvision
    # timm seresnet*, seresnext*_32x4d and senet154 (= legacy_seresnet50 ... legacy_senet154)
    "seresnet50": 28_088_024,
    "seresnet101": 49_326_872,
    "seresnet152": 66_821_848,
    "seresnext50_32x4d": 27_559_896,
    "seresnext101_32x4d": 48_955_416,
    "senet154": 115_088_984,
    "googlenet": 6_998_552,  # computed from the paper (true 5x5, conv biases, no BN)
    "bn_inception": 11_194_984,  # computed by hand from the BN paper's Figure 5 table
    # (TF-slim widths, BN with scale, plain 7x7 conv1)
    "inception_v2": 25_954_248,  # computed by hand from Rethinking Table 1 with the
    # released v3's module widths (5 Fig.-6 modules)
    "inception_v3": 23_834_568,  # torchvision / timm (BN with scale)
    "inception_v4": 42_679_816,  # timm
    "inception_resnet_v1": 22_756_328,  # computed by hand from Figures 14, 10, 7, 11-13
    "inception_resnet_v2": 55_843_464,  # timm
    "densenet121": 7_978_856,  # torchvision = timm
    "densenet169": 14_149_480,  # torchvision
    "densenet201": 20_013_928,  # torchvision
    "densenet264": 33_337_704,  # torchvision DenseNet(32, (6, 12, 64, 48), 64)
    "densenet161": 28_681_000,  # torchvision
    "dpn68": 12_611_602,  # timm (dpn68b the same)
    "dpn92": 37_668_392,  # timm
    "dpn98": 61_570_728,
    "dpn107": 86_917_800,
    "dpn131": 79_254_504,
    # timm's dm_nfnet_f0 ... f6 (DeepMind's NFNets with a skip gain per block) and nf_resnet50.
    "nfnet_f0": 71_489_284,
    "nfnet_f1": 132_634_256,
    "nfnet_f2": 193_779_228,
    "nfnet_f3": 254_924_200,
    "nfnet_f4": 316_069_172,
    "nfnet_f5": 377_214_144,
    "nfnet_f6": 438_359_116,
    "nf_resnet50": 25_557_032,
    # He et al. 2016 Table 6 (0.27M, 0.46M, 0.66M, 0.85M, 1.7M), exactly: 6n 3x3 convs
    # without bias + the 3x3 stem, BN gamma/beta, option A shortcuts (no weights), a 10-way
    # classifier with bias; plain nets alike (counted by hand from Table 6's definition).
    **{
        f"{kind}{depth}_cifar": count
        for kind in ("resnet", "plain")
        for depth, count in (
            (20, 269_722),
            (32, 464_154),
            (44, 658_586),
            (56, 853_018),
            (110, 1_727_962),
        )
    },
    # IGC V1 (Zhang et al. 2017): counted from the authors' released MXNet symbol files
    # (hellozting/InterleavedGroupConvolutions models/*/*-symbol.json): conv weights, BN
    # gamma/beta and fc_score with bias. The paper's #params column (11.205M, 11.329M, 8.61M)
    # follows no single rule (docs/models/igc.md).
    "igc_l4m32": 12_251_240,
    "igc_l16m16": 13_528_296,
    "igc_l100m2": 8_637_900,
    # ShuffleNet v1 1x (Zhang et al. 2018): computed by hand from Table 1 (stem 24, bottleneck
    # a quarter of the stage width, Stage2's first pointwise conv ungrouped, strided units
    # concatenated with a 3x3/2 average pool, FC with bias); osmr/imgclsmob's shufflenet_g*_w1
    # have the same counts.
    "shufflenet_v1_g1": 1_531_936,
    "shufflenet_v1_g2": 1_733_848,
    "shufflenet_v1_g3": 1_865_728,
    "shufflenet_v1_g4": 1_968_344,
    "shufflenet_v1_g8": 2_434_768,
    # torchvision shufflenet_v2_x* (num_params of its weight enums).
    "shufflenet_v2_x0_5": 1_366_792,
    "shufflenet_v2_x1_0": 2_278_604,
    "shufflenet_v2_x1_5": 3_503_624,
    "shufflenet_v2_x2_0": 7_393_996,
    "mobilenet_v1": 4_231_976,  # keras.applications MobileNet, timm mobilenetv1_100
    "mobilenet_v2": 3_504_872,  # torchvision mobilenet_v2 = timm = keras.applications
    "mobilenet_v3_large": 5_483_032,  # torchvision mobilenet_v3_large = timm
    "mobilenet_v3_small": 2_542_856,  # torchvision mobilenet_v3_small
    "mnasnet_a1": 3_887_038,  # timm semnasnet_100 (Tan et al. 2019 Table 1: 3.9M)
    "mnasnet0_5": 2_218_512,  # torchvision mnasnet0_5
    "mnasnet0_75": 3_170_208,  # torchvision mnasnet0_75
    "mnasnet1_0": 4_383_312,  # torchvision mnasnet1_0 = timm mnasnet_100
    "mnasnet1_3": 6_282_256,  # torchvision mnasnet1_3
    # torchvision efficientnet_b* = timm efficientnet_b* and tf_efficientnet_b* =
    # keras.applications EfficientNetB* (trainable weights)
    "efficientnet_b0": 5_288_548,
    "efficientnet_b1": 7_794_184,
    "efficientnet_b2": 9_109_994,
    "efficientnet_b3": 12_233_232,
    "efficientnet_b4": 19_341_616,
    "efficientnet_b5": 30_389_784,
    "efficientnet_b6": 43_040_704,
    "efficientnet_b7": 66_347_960,
    # timm tf_efficientnet_lite0 ... lite4
    "efficientnet_lite0": 4_652_008,
    "efficientnet_lite1": 5_416_680,
    "efficientnet_lite2": 6_092_072,
    "efficientnet_lite3": 8_197_096,
    "efficientnet_lite4": 13_006_568,
    # No library has them: counted exactly from the authors' Caffe deploy definitions
    # (fwang91/residual-attention-network, imagenet_model/*-deploy.prototxt): conv kernels
    # (no biases), BN scale and shift (2 per channel), the classifier with bias.
    "residual_attention56": 31_810_728,
    "residual_attention92": 52_466_344,
    "attention_next56": 31_318_824,
}

# Builder options with their own reference counts: (name, kwargs, trainable params).
VARIANT_PARAMS = [
    ("alexnet", {"variant": "torchvision"}, 61_100_840),
    ("resnet18", {"shortcut": "A"}, 11_515_688),
    ("resnet18", {"shortcut": "C"}, 12_043_816),
    ("resnet34", {"shortcut": "A"}, 21_623_848),
    ("resnet34", {"shortcut": "C"}, 22_716_840),
    ("resnet50", {"depths": (2, 2, 2, 2)}, 15_995_176),  # timm resnet26 (Bottleneck, 2-2-2-2)
    ("googlenet", {"variant": "torchvision"}, 6_624_904),  # torchvision
    ("googlenet", {"aux_logits": True}, 6_998_552 + 3_188_840 + 3_190_888),  # paper, computed
    ("googlenet", {"variant": "torchvision", "aux_logits": True}, 13_004_888),  # torchvision
    ("inception_v3", {"aux_logits": True}, 27_161_264),  # torchvision
    ("inception_v3", {"bn_scale": False}, 23_817_352),  # keras.applications
    ("inception_resnet_v2", {"bn_scale": False}, 55_813_192),  # keras.applications
    # The schema's 5/10/5 blocks: 55,843,464 less 5 x 123,168 (block35), 10 x 1,126,784
    # (block17), 5 x 2,035,424 (block8), each block's convs counted by hand from Figs. 16-19.
    ("inception_resnet_v2", {"depths": (5, 10, 5)}, 33_782_664),
    # One module a grid: 42,679,816 (timm) less 3 x 317,632 (Inception-A), 6 x 2,936,256
    # (Inception-B), 2 x 4,553,088 (Inception-C), counted by hand from Figures 4-6 (convs
    # without bias, BN's gamma and beta).
    ("inception_v4", {"depths": (1, 1, 1)}, 15_003_208),
    ("densenet121", {"depths": (2, 2, 2, 2)}, 544_296),  # torchvision DenseNet(32, (2, 2, 2, 2))
    # keras.applications MobileNet(alpha), MobileNetV2(alpha), MobileNetV3*(alpha,
    # minimalistic) trainable counts; timm mobilenetv2_140, mobilenetv3_large_075 and
    # mobilenetv3_small_075 agree.
    ("mobilenet_v1", {"alpha": 0.75}, 2_585_560),
    ("mobilenet_v1", {"alpha": 0.5}, 1_331_592),
    ("mobilenet_v1", {"alpha": 0.25}, 470_072),
    ("mobilenet_v2", {"alpha": 0.35}, 1_677_128),
    ("mobilenet_v2", {"alpha": 0.5}, 1_968_680),
    ("mobilenet_v2", {"alpha": 0.75}, 2_636_424),
    ("mobilenet_v2", {"alpha": 1.3}, 5_386_792),
    ("mobilenet_v2", {"alpha": 1.4}, 6_108_776),
    ("mobilenet_v3_large", {"alpha": 0.75}, 3_993_528),
    ("mobilenet_v3_small", {"alpha": 0.75}, 2_041_872),
    ("mobilenet_v3_large", {"minimalistic": True}, 3_924_288),
    ("mobilenet_v3_small", {"minimalistic": True}, 2_044_736),
    # timm's DPN(small=True, num_init_features=10, k_r=128, groups=32, k_sec=(1, 1, 1, 1),
    # inc_sec=(16, 32, 32, 64)): DPN-68 with one (projection) block per stage.
    ("dpn68", {"depths": (1, 1, 1, 1)}, 2_721_842),
    ("nfnet_f0", {"depths": (1, 1, 1, 1)}, 24_885_500),  # timm dm_nfnet_f0(depths=(1, 1, 1, 1))
    # megvii's ShuffleNet v1 release (megvii-model/ShuffleNet-Series, ShuffleNetV1/network.py:
    # FC without bias; conv1 12, 24, 24, 48 at 0.5x ... 2x for g = 3, 16 for g = 8 at 0.5x),
    # counted by hand from its network definition.
    ("shufflenet_v1_g3", {"alpha": 0.5, "classifier_bias": False}, 717_324),
    ("shufflenet_v1_g3", {"alpha": 1.5, "stem_filters": 24, "classifier_bias": False}, 3_441_168),
    ("shufflenet_v1_g8", {"alpha": 0.5, "classifier_bias": False}, 1_010_448),
    ("shufflenet_v1_g8", {"alpha": 2.0, "classifier_bias": False}, 6_521_232),
    # torchvision EfficientNet(inverted_residual_setting=[MBConvConfig(..., num_layers=1)
    # for B0's seven rows], dropout=0.2): B0 with one block a stage.
    ("efficientnet_b0", {"depths": (1, 1, 1, 1, 1, 1, 1)}, 2_859_748),
    # Attention-56 with one unit in stage 4: the deploy definition's count less two identity
    # units (2048*512 + 9*512*512 + 512*2048 weights, BN of 2048 + 512 + 512 channels).
    ("residual_attention56", {"depths": (1, 1, 1, 1)}, 31_810_728 - 2 * 4_462_592),
]

# Multiply-adds x 1e9 at the default input size, as the papers report them.
# Checked within 3%.
GMACS = {
    "resnet18": 1.8,
    "resnet34": 3.6,
    "resnet50": 3.8,
    "resnet101": 7.6,
    "resnet152": 11.3,
    "vgg19": 19.6,
    "resnext50_32x4d": 4.2,
    # Inception-v3 "5 billion multiply-adds" (Rethinking, section 1); 5.7 as torchvision/timm
    # report. Inception-v4 and Inception-ResNet-v2: timm's 12.3 and 13.2 GMACs.
    "inception_v3": 5.7,
    "inception_v4": 12.3,
    "inception_resnet_v2": 13.2,
    # Li et al. 2017 (Pruning Filters for Efficient ConvNets), Table 1: 1.25e8 and 2.53e8 FLOPs
    # (multiply-adds) for the CIFAR-10 ResNet-56 and ResNet-110.
    "resnet56_cifar": 0.125,
    "resnet110_cifar": 0.253,
    # Hu et al. 2018 Table 2 (GFLOPs, i.e. multiply-adds, as the ResNet figures it compares).
    "seresnet50": 3.87,
    "seresnet101": 7.60,
    "seresnet152": 11.32,
    "seresnext50_32x4d": 4.25,
    "seresnext101_32x4d": 8.00,
    # Huang et al. plot FLOPs (Figure 3) without a table: torchvision's Weights meta "_ops".
    "densenet121": 2.834,
    "densenet169": 3.36,
    "densenet201": 4.291,
    "densenet161": 7.728,
    # IGC V1: multiply-adds of the convolutions and fc_score of the released symbol files at
    # 224 (computed from the JSON alone); the paper's FLOPs column rounds them to 1.9, 2.2
    # (2.266: 3.0% off) and 1.3.
    "igc_l4m32": 1.945,
    "igc_l16m16": 2.266,
    "igc_l100m2": 1.265,
    # Zhang et al. 2018 Table 2, ShuffleNet 1x "Complexity (MFLOPs)" for g = 1, 2, 3, 4, 8
    # (multiply-adds of the convs and the FC).
    "shufflenet_v1_g1": 0.143,
    "shufflenet_v1_g2": 0.140,
    "shufflenet_v1_g3": 0.137,
    "shufflenet_v1_g4": 0.133,
    "shufflenet_v1_g8": 0.137,
    # Ma et al. 2018 Table 5, FLOPs 41M, 146M, 299M, 591M (multiply-adds; torchvision's _ops
    # 0.04, 0.145, 0.296, 0.583).
    "shufflenet_v2_x0_5": 0.041,
    "shufflenet_v2_x1_0": 0.146,
    "shufflenet_v2_x1_5": 0.299,
    "shufflenet_v2_x2_0": 0.591,
    # MobileNet v1 Table 1/6 (569M mult-adds), v2 Table 4 (300M), v3 Tables 3 and 4 (Large
    # 219M, Small 56M).
    "mobilenet_v1": 0.569,
    "mobilenet_v2": 0.300,
    "mobilenet_v3_large": 0.219,
    "mobilenet_v3_small": 0.056,
    # Chen et al. 2017 Table 2 and the cypw/DPNs README: "GFLOPs" 6.5, 11.7, 18.3 and 16.0,
    # multiply-adds of the convs and the classifier (timm's counts agree). DPN-68's 2.5 is
    # left out: its convs and classifier make 2.33 G (timm's count too), 7% less.
    "dpn92": 6.5,
    "dpn98": 11.7,
    "dpn107": 18.3,
    "dpn131": 16.0,
    # Tan et al. 2019 Table 1: MnasNet-A1 312M multiply-adds. The B1 widths have no paper
    # figure: torchvision's Weights meta "_ops" (GMACs).
    "mnasnet_a1": 0.312,
    "mnasnet0_5": 0.104,
    "mnasnet0_75": 0.215,
    "mnasnet1_0": 0.314,
    "mnasnet1_3": 0.526,
    # Tan & Le 2019 Table 2 (FLOPS, counted as multiply-adds): 0.39B, 0.70B, 1.0B, 1.8B, 19B,
    # 37B. B4's 4.2B and B5's 9.9B are 4.5% and 3.6% below the count of their convolutions and
    # classifier (torchvision's efficientnet_b4/b5 Weights meta "_ops": 4.394 and 10.266, the
    # figures used here); SE's pooled products are not counted (they are < 0.1%).
    "efficientnet_b0": 0.39,
    "efficientnet_b1": 0.70,
    "efficientnet_b2": 1.0,
    "efficientnet_b3": 1.8,
    "efficientnet_b4": 4.394,
    "efficientnet_b5": 10.266,
    "efficientnet_b6": 19.0,
    "efficientnet_b7": 37.0,
    # Wang et al. 2017 Table 2 and section 4.2: 6.3 / 10.4 / 6.3 GFLOPs (multiply-adds; the
    # deploy definitions' convs and classifier make 6.27 / 10.53 / 6.42 G).
    "residual_attention56": 6.3,
    "residual_attention92": 10.4,
    "attention_next56": 6.3,
    # Brock et al. 2021, the ImageNet results table: FLOPs (multiply-adds of the convs and the
    # classifier) at each model's test resolution, the default size here: 12.38, 35.54, 62.59,
    # 114.76, 215.24, 289.76 and 377.28 G (F2, F4 and F5's as Papers with Code lists them
    # from the paper).
    "nfnet_f0": 12.38,
    "nfnet_f1": 35.54,
    "nfnet_f2": 62.59,
    "nfnet_f3": 114.76,
    "nfnet_f4": 215.24,
    "nfnet_f5": 289.76,
    "nfnet_f6": 377.28,
}

# Width of the pooled features (include_top=False, pooling="avg"): the last stage's channels
# in each paper's table.
FEATURE_WIDTH = {
    "alexnet": 256,
    **{
        n: 512
        for n in (
            "vgg11",
            "vgg11_lrn",
            "vgg13",
            "vgg16_c",
            "vgg16",
            "vgg19",
            "vgg11_bn",
            "vgg13_bn",
            "vgg16_bn",
            "vgg19_bn",
        )
    },
    "resnet18": 512,
    "resnet34": 512,
    "plainnet18": 512,
    "plainnet34": 512,
    **{
        n: 2048
        for n in (
            "resnet50",
            "resnet101",
            "resnet152",
            "resnext50_32x4d",
            "resnext101_32x4d",
            "resnext101_64x4d",
            "resnext101_32x8d",
            "seresnet50",
            "seresnet101",
            "seresnet152",
            "seresnext50_32x4d",
            "seresnext101_32x4d",
            "senet154",
        )
    },
    "googlenet": 1024,  # GoogLeNet Table 1, inception (5b)
    "bn_inception": 1024,  # BN paper Figure 5, inception (5b)
    "inception_v2": 2048,  # Rethinking Table 1, pool input 8x8x2048
    "inception_v3": 2048,
    "inception_v4": 1536,  # Inception-v4 Figure 9
    "inception_resnet_v1": 1792,  # Inception-ResNet-v1, Figure 15 ("1792")
    "inception_resnet_v2": 1536,  # the release's final 1x1 conv (conv_7b, 1536)
    **{n: 64 for n in CIFAR_NETS},  # He et al. section 4.2: the last stage's 64 filters
    # Huang et al. Table 1: 2k + k * (layers of block 1), halved by each transition, plus k
    # per later layer (keras.applications' and torchvision's classifier inputs).
    "densenet121": 1024,
    "densenet169": 1664,
    "densenet201": 1920,
    "densenet264": 2688,
    "densenet161": 2208,
    # IGC V1's last stage in the released symbol files (g4: 1024, 2048, 1600 channels).
    "igc_l4m32": 1024,
    "igc_l16m16": 2048,
    "igc_l100m2": 1600,
    # Zhang et al. 2018 Table 1: Stage4's output channels (4x Stage2's) for g = 1, 2, 3, 4, 8.
    "shufflenet_v1_g1": 576,
    "shufflenet_v1_g2": 800,
    "shufflenet_v1_g3": 960,
    "shufflenet_v1_g4": 1088,
    "shufflenet_v1_g8": 1536,
    # Ma et al. 2018 Table 5: Conv5's output channels.
    **{f"shufflenet_v2_x{w}": 1024 for w in ("0_5", "1_0", "1_5")},
    "shufflenet_v2_x2_0": 2048,
    "mobilenet_v1": 1024,  # MobileNet Table 1, the last pointwise conv
    "mobilenet_v2": 1280,  # MobileNetV2 Table 2, conv2d 1x1 of 1280
    "mobilenet_v3_large": 960,  # MobileNetV3 Table 1, the conv2d 1x1 before the pool
    "mobilenet_v3_small": 576,  # Table 2
    # Chen et al. Table 1 (and the release for DPN-68/107): conv5's residual path (2048; DPN-68
    # 512) plus its dense path (3 x 128 + 2 x 128; DPN-68 3 x 64 + 2 x 64); timm's num_features.
    "dpn68": 832,
    **{n: 2688 for n in ("dpn92", "dpn98", "dpn107", "dpn131")},
    # NFNets: the final conv's 2 x 1536 (Brock et al. 2021, section 4); NF-ResNet-50: conv5's.
    **{f"nfnet_f{k}": 3072 for k in range(7)},
    "nf_resnet50": 2048,
    # MnasNet: the 1x1 conv of 1280 before the pool, at every width (the tensorflow/tpu
    # release, torchvision and timm).
    **{n: 1280 for n in ("mnasnet_a1", "mnasnet0_5", "mnasnet0_75", "mnasnet1_0", "mnasnet1_3")},
    # Tan & Le Table 1: the 1x1 conv of 1280 x w, rounded to a multiple of 8 (section 3.3's
    # width scaling as the release rounds it); Lite keeps 1280 (the release's fix_head_stem).
    **{
        f"efficientnet_b{b}": width
        for b, width in enumerate((1280, 1280, 1408, 1536, 1792, 2048, 2304, 2560))
    },
    **{f"efficientnet_lite{n}": 1280 for n in range(5)},
    # Wang et al. Table 2: stage 4's residual units, 2048 channels.
    **{n: 2048 for n in ("residual_attention56", "residual_attention92", "attention_next56")},
}

# Feature levels (features_only=True): (level Pk, channels, grid at the default input size),
# the last map at each reduction 2**k, from each paper's table; timm's features_only
# feature_info (num_chs, reduction, and the map's size) agrees wherever timm has the model.
_VGG_LEVELS = (("P1", 128, 112), ("P2", 256, 56), ("P3", 512, 28), ("P4", 512, 14), ("P5", 512, 7))
_RESNET_LEVELS = {
    # He et al. Table 1: conv1 (112), conv2_x (56, after the max pool) ... conv5_x (7).
    "basic": (("P1", 64, 112), ("P2", 64, 56), ("P3", 128, 28), ("P4", 256, 14), ("P5", 512, 7)),
    "bottleneck": (
        ("P1", 64, 112),
        ("P2", 256, 56),
        ("P3", 512, 28),
        ("P4", 1024, 14),
        ("P5", 2048, 7),
    ),
}
FEATURE_LEVELS = {
    # Krizhevsky et al. Fig. 2 (227 input): conv1 55x55x96, conv2 27x27x256, conv5 13x13x256,
    # the max pool after it 6x6x256 (no map at reduction 2).
    "alexnet": (("P2", 96, 55), ("P3", 256, 27), ("P4", 256, 13), ("P5", 256, 6)),
    # Simonyan & Zisserman Table 1: each block's last conv before its pool; pool5 7x7x512.
    **{
        n: _VGG_LEVELS
        for n in (
            "vgg11",
            "vgg11_lrn",
            "vgg13",
            "vgg16_c",
            "vgg16",
            "vgg19",
            "vgg11_bn",
            "vgg13_bn",
            "vgg16_bn",
            "vgg19_bn",
        )
    },
    **{n: _RESNET_LEVELS["basic"] for n in ("resnet18", "resnet34", "plainnet18", "plainnet34")},
    **{
        n: _RESNET_LEVELS["bottleneck"]
        for n in (
            "resnet50",
            "resnet101",
            "resnet152",
            "resnext50_32x4d",
            "resnext101_32x4d",
            "resnext101_64x4d",
            "resnext101_32x8d",
            "seresnet50",
            "seresnet101",
            "seresnet152",
            "seresnext50_32x4d",
            "seresnext101_32x4d",
        )
    },
    # Hu et al. appendix: SENet-154's 3-conv stem ends at 112x112x128 (timm's feature_info:
    # 128 channels at reduction 2), then SE-ResNeXt's stages.
    "senet154": (("P1", 128, 112),) + _RESNET_LEVELS["bottleneck"][1:],
    # Szegedy et al. 2015 Table 1: conv1 112x112x64, conv2 56x56x192, inception (3b) 28x28x480,
    # (4e) 14x14x832, (5b) 7x7x1024.
    "googlenet": (
        ("P1", 64, 112),
        ("P2", 192, 56),
        ("P3", 480, 28),
        ("P4", 832, 14),
        ("P5", 1024, 7),
    ),
    # Ioffe & Szegedy Fig. 5: inception (3b) 28x28x320, (4d) 14x14x576, (5b) 7x7x1024.
    "bn_inception": (
        ("P1", 64, 112),
        ("P2", 192, 56),
        ("P3", 320, 28),
        ("P4", 576, 14),
        ("P5", 1024, 7),
    ),
    # Rethinking Table 1 (299 input): 147x147x64, 71x71x80, 35x35x288, 17x17x768, 8x8x2048.
    "inception_v2": (
        ("P1", 64, 147),
        ("P2", 80, 71),
        ("P3", 288, 35),
        ("P4", 768, 17),
        ("P5", 2048, 8),
    ),
    # The released v3 (timm/torchvision Conv2d_2b, Conv2d_4a 71x71x192, Mixed_5d, 6e, 7c).
    "inception_v3": (
        ("P1", 64, 147),
        ("P2", 192, 71),
        ("P3", 288, 35),
        ("P4", 768, 17),
        ("P5", 2048, 8),
    ),
    # Szegedy et al. 2017 Fig. 3 stem (64 at 147, the 71x71x192 concat), Inception-A 35x35x384,
    # -B 17x17x1024, -C 8x8x1536. timm's P2 is the stem's first concat (73x73x160), before
    # the second one at the same reduction.
    "inception_v4": (
        ("P1", 64, 147),
        ("P2", 192, 71),
        ("P3", 384, 35),
        ("P4", 1024, 17),
        ("P5", 1536, 8),
    ),
    # Fig. 14 stem (147x147x64, 71x71x192, 35x35x256), Inception-ResNet-B 17x17x896, -C 8x8x1792.
    "inception_resnet_v1": (
        ("P1", 64, 147),
        ("P2", 192, 71),
        ("P3", 256, 35),
        ("P4", 896, 17),
        ("P5", 1792, 8),
    ),
    # He et al. section 4.2 (32x32 input): maps of 32, 16, 8 with 16, 32, 64 filters; the
    # first stage is at reduction 1, no level.
    **{n: (("P1", 32, 16), ("P2", 64, 8)) for n in CIFAR_NETS},
    # The release (timm conv2d_2b, conv2d_4a, repeat 35x35x320, repeat_1 17x17x1088, conv2d_7b).
    "inception_resnet_v2": (
        ("P1", 64, 147),
        ("P2", 192, 71),
        ("P3", 320, 35),
        ("P4", 1088, 17),
        ("P5", 1536, 8),
    ),
    # Huang et al. Table 1: conv 112x112 (2k maps), then the last map at 56, 28 and 14 is a
    # transition's 1x1 conv before its pool (half the block's maps; timm's feature_info takes
    # the dense block's output before the transition instead), the final BN-ReLU at 7.
    **{
        name: (
            ("P1", stem, 112),
            ("P2", p2, 56),
            ("P3", p3, 28),
            ("P4", p4, 14),
            ("P5", p5, 7),
        )
        for name, stem, p2, p3, p4, p5 in (
            ("densenet121", 64, 128, 256, 512, 1024),
            ("densenet169", 64, 128, 256, 640, 1664),
            ("densenet201", 64, 128, 256, 896, 1920),
            ("densenet264", 64, 128, 256, 1152, 2688),
            ("densenet161", 96, 192, 384, 1056, 2208),
        )
    },
    # IGC V1, the released symbol files: g0 (112, the stem's width), g1 ... g4 (56 ... 7).
    "igc_l4m32": (
        ("P1", 128, 112),
        ("P2", 128, 56),
        ("P3", 256, 28),
        ("P4", 512, 14),
        ("P5", 1024, 7),
    ),
    "igc_l16m16": (
        ("P1", 256, 112),
        ("P2", 256, 56),
        ("P3", 512, 28),
        ("P4", 1024, 14),
        ("P5", 2048, 7),
    ),
    "igc_l100m2": (
        ("P1", 100, 112),
        ("P2", 200, 56),
        ("P3", 400, 28),
        ("P4", 800, 14),
        ("P5", 1600, 7),
    ),
    # MobileNet Table 1: conv_pw_1 112x112x64, then the last pointwise conv at 56 (128), 28
    # (256), 14 (512) and 7 (1024).
    "mobilenet_v1": (
        ("P1", 64, 112),
        ("P2", 128, 56),
        ("P3", 256, 28),
        ("P4", 512, 14),
        ("P5", 1024, 7),
    ),
    # MobileNetV2 Table 2 (and v3 Tables 1-2): a strided bottleneck expands at its input's
    # size, so the last map at a reduction is that expansion (t x c of the block before):
    # 6 x 16, 6 x 24, 6 x 32, 6 x 96 (timm's feature_location="expansion"), then the
    # 1x1 conv of 1280 at 7.
    "mobilenet_v2": (
        ("P1", 96, 112),
        ("P2", 144, 56),
        ("P3", 192, 28),
        ("P4", 576, 14),
        ("P5", 1280, 7),
    ),
    # Table 1: exp size 64 (112), 72 (56), 240 (28), 672 (14); the 1x1 conv of 960 at 7.
    "mobilenet_v3_large": (
        ("P1", 64, 112),
        ("P2", 72, 56),
        ("P3", 240, 28),
        ("P4", 672, 14),
        ("P5", 960, 7),
    ),
    # Table 2: the stem's 16 (112; the first bneck strides without expanding), exp size 72
    # (56), 96 (28), 288 (14); the 1x1 conv of 576 at 7.
    "mobilenet_v3_small": (
        ("P1", 16, 112),
        ("P2", 72, 56),
        ("P3", 96, 28),
        ("P4", 288, 14),
        ("P5", 576, 7),
    ),
    # timm's DPN feature_info (conv1_1, then the last block of conv2 ... conv5; the paths'
    # channels of Table 1: residual + dense), at 112, 56, 28, 14 and 7.
    **{
        name: tuple(
            (f"P{level}", channels, 224 >> level) for level, channels in enumerate(widths, start=1)
        )
        for name, widths in (
            ("dpn68", (10, 144, 320, 704, 832)),
            ("dpn92", (64, 336, 704, 1552, 2688)),
            ("dpn98", (96, 336, 768, 1728, 2688)),
            ("dpn107", (128, 376, 1152, 2432, 2688)),
            ("dpn131", (128, 352, 832, 1984, 2688)),
        )
    },  # Wang et al. Table 2: conv1 (112), then the outputs of stages 1-3 (the last attention
    # module, 56, 28, 14) and of stage 4 (7), with the ResNet bottleneck's channels.
    **{
        n: _RESNET_LEVELS["bottleneck"]
        for n in ("residual_attention56", "residual_attention92", "attention_next56")
    },
    # timm's NormFreeNet feature_info (the stem at 1/2, the stages, the final conv), at each
    # model's default (test) size.
    **{
        name: tuple(
            (f"P{level}", channels, size >> level) for level, channels in enumerate(widths, start=1)
        )
        for name, size, widths in (
            *(
                (f"nfnet_f{k}", size, (64, 256, 512, 1536, 3072))
                for k, size in enumerate((256, 320, 352, 416, 512, 544, 576))
            ),
            ("nf_resnet50", 288, (64, 256, 512, 1024, 2048)),
        )
    },
    # MnasNet (Tan et al. 2019 Figure 7; B1 from the tensorflow/tpu release), as MobileNetV2:
    # a strided stage's first block expands at its input's size, so the last map at a
    # reduction is that expansion (input channels x t of stages 2, 3, 4 and 6), then the 1x1
    # conv of 1280 at 7. A1: 16 x 6, 24 x 3, 40 x 6, 112 x 6. B1 at width a: c = torchvision's
    # _round_to_multiple_of(c x a, 8) of 16, 24, 40, 96 (a = 0.5: 8, 16, 24, 48; 0.75: 16,
    # 24, 32, 72; 1.0: 16, 24, 40, 96; 1.3: 24, 32, 56, 128) times 3, 3, 6, 6.
    **{
        name: tuple(
            (f"P{level}", channels, 224 >> level) for level, channels in enumerate(widths, start=1)
        )
        for name, widths in (
            ("mnasnet_a1", (96, 72, 240, 672, 1280)),
            ("mnasnet0_5", (24, 48, 144, 288, 1280)),
            ("mnasnet0_75", (48, 72, 192, 432, 1280)),
            ("mnasnet1_0", (48, 72, 240, 576, 1280)),
            ("mnasnet1_3", (72, 96, 336, 768, 1280)),
        )
    },
    # Zhang et al. 2018 Table 1 and Ma et al. 2018 Table 5: Conv1 (24, 112), MaxPool (24, 56),
    # Stage2 ... Stage4 (28, 14, 7; v2's last map at 7 is Conv5's).
    **{
        name: tuple(
            (f"P{level}", channels, 224 >> level)
            for level, channels in enumerate((24, 24, *widths), start=1)
        )
        for name, widths in (
            ("shufflenet_v1_g1", (144, 288, 576)),
            ("shufflenet_v1_g2", (200, 400, 800)),
            ("shufflenet_v1_g3", (240, 480, 960)),
            ("shufflenet_v1_g4", (272, 544, 1088)),
            ("shufflenet_v1_g8", (384, 768, 1536)),
            ("shufflenet_v2_x0_5", (48, 96, 1024)),
            ("shufflenet_v2_x1_0", (116, 232, 1024)),
            ("shufflenet_v2_x1_5", (176, 352, 1024)),
            ("shufflenet_v2_x2_0", (244, 488, 2048)),
        )
    },
    # EfficientNet Table 1, widths x w rounded to multiples of 8 (computed by hand): as in
    # MobileNetV2 a strided MBConv6 expands at its input's size, so P1 ... P4 are the
    # expansions (6 x c) of the blocks before stages 3, 4, 5 and 7's strides (16, 24, 40, 112
    # channels in B0), P5 the 1x1 conv of 1280 x w (Lite 1280); grids ceil(r / 2**k) of the
    # row's resolution r under TensorFlow's 'same' padding.
    **{
        name: tuple(
            (f"P{level}", channels, -(-size // 2**level))
            for level, channels in enumerate(widths, start=1)
        )
        for name, size, widths in (
            ("efficientnet_b0", 224, (96, 144, 240, 672, 1280)),
            ("efficientnet_b1", 240, (96, 144, 240, 672, 1280)),
            ("efficientnet_b2", 260, (96, 144, 288, 720, 1408)),
            ("efficientnet_b3", 300, (144, 192, 288, 816, 1536)),
            ("efficientnet_b4", 380, (144, 192, 336, 960, 1792)),
            ("efficientnet_b5", 456, (144, 240, 384, 1056, 2048)),
            ("efficientnet_b6", 528, (192, 240, 432, 1200, 2304)),
            ("efficientnet_b7", 600, (192, 288, 480, 1344, 2560)),
            ("efficientnet_lite0", 224, (96, 144, 240, 672, 1280)),
            ("efficientnet_lite1", 240, (96, 144, 240, 672, 1280)),
            ("efficientnet_lite2", 260, (96, 144, 288, 720, 1280)),
            ("efficientnet_lite3", 280, (144, 192, 288, 816, 1280)),
            ("efficientnet_lite4", 300, (144, 192, 336, 960, 1280)),
        )
    },
}
