"""ResNet, plain nets, ResNeXt and SENet: one family, one builder, rows in a table.

The family's package, a module per concern: architecture.py (the papers' tables, the blocks,
the body and the options), this module (the training records and the registered rows, one
public builder each) and weights.py (the conversion rows and weight cards of torchvision, timm
and keras.applications).
"""

import dataclasses

from keras_classics.models import _core
from keras_classics.models.resnet import weights  # noqa: F401  (registers rows and cards)
from keras_classics.models.resnet.architecture import (
    OPTIONS,
    RESNET_PAPER,
    RESNEXT_PAPER,
    SENET_PAPER,
    Config,
    body,
    configure,
    summary,
)
from keras_classics.records.augmentation import Augmentation, register_augmentation
from keras_classics.records.recipe import Recipe
from keras_classics.records.registry import ReplicaCheck

# Training: section 3.4 and the tf-models/fb.resnet.torch schedule, SGD 0.9, LR 0.1 per 256
# images, / 10 at epochs 30, 60, 80, weight decay 1e-4 not on BN parameters and biases, 90
# epochs.
RECIPE = Recipe(
    "He et al. 2016, section 3.4",
    "sgd",
    0.1,
    256,
    90,
    "steps",
    1e-4,
    milestones=(30, 60, 80),
    decay_norm_and_bias=False,
)
# Section 4.2 (CIFAR-10): SGD 0.9, batch 128, LR 0.1 / 10 at 32k and 48k of 64k iterations
# (~182 epochs of 45k images), weight decay 1e-4; also the recipe on the bundled 28x28
# Fashion-MNIST (trained with the same 4-pixel pad-and-crop). A short run keeps the milestones
# at 50% and 75% of its length.
CIFAR_RECIPE = dataclasses.replace(
    RECIPE,
    source="He et al. 2016, section 4.2 (CIFAR-10)",
    batch_size=128,
    epochs=182,
    milestones=(91, 136.5),
)
# Augmentation, section 3.4: the shorter side rescaled to S ~ U[256, 480], a random 224x224
# crop, flipped, and "the standard color augmentation in [21]" (AlexNet's PCA lighting).
AUGMENTATION = Augmentation(
    "resnet",
    "He et al. 2016, section 3.4",
    "scale",
    scale=(256, 480),
    after_resize=("pca_lighting",),
)
RESNET = _core.Family(
    "resnet",
    RESNET_PAPER,
    configure,
    body,
    OPTIONS,
    describe=summary,
    augmentation=AUGMENTATION,
    recipe=RECIPE,
    small_image_recipe=CIFAR_RECIPE,
    module=__name__,  # the rows below assign the builders; the body is architecture.py's
)
PLAIN = dataclasses.replace(RESNET, paper=RESNET_PAPER + ", plain")
# Xie et al. 2017, section 4: ResNeXt trains as ResNet.
RESNEXT = dataclasses.replace(
    RESNET,
    name="resnext",
    paper=RESNEXT_PAPER,
    recipe=dataclasses.replace(RECIPE, source="Xie et al. 2017, section 4"),
)
NEXT = dict(kind="bottleneck", downsample_at="3x3")
# Hu et al. 2018, section 5.1 (ImageNet): synchronous SGD, momentum 0.9, a minibatch of 1024,
# LR 0.6 divided by 10 every 30 epochs, 100 epochs, He initialisation (ResNet's). The paper
# gives no weight decay: ResNet's 1e-4, as the base nets it modifies (its Caffe release's
# solver is not in the paper).
SENET_RECIPE = dataclasses.replace(
    RECIPE,
    source="Hu et al. 2018, section 5.1",
    learning_rate=0.6,
    batch_size=1024,
    epochs=100,
    milestones=(30, 60, 90),
)
# Section 5.1: "random-size cropping [Szegedy et al. 2015] to 224x224 pixels ... and random
# horizontal flipping", then mean RGB subtraction (the input record's). The authors' README
# adds rotation (+-10 degrees) and pixel jitter (+-20) to its re-trained models: not the
# paper's, not here.
SENET_AUGMENTATION = Augmentation("senet", "Hu et al. 2018, section 5.1", "area")
SENET = dataclasses.replace(
    RESNET,
    name="senet",
    paper=SENET_PAPER,
    recipe=SENET_RECIPE,
    small_image_recipe=None,
    augmentation=SENET_AUGMENTATION,
)
SE = dict(se_reduction=16)  # Table 1: r = 16 in every SENet

# ResNet Table 1 and ResNeXt Table 1, a row each: Config(depths, block kind, ...).
# Replica equivalence (keras_classics/training/equivalence.py) in float64: with BatchNorm,
# float32's rounding makes the runs part whatever the strategy (equivalence's docstring).
ResNet18 = RESNET.register(
    "resnet18", "ResNet18", Config((2, 2, 2, 2), "basic"), replica_check=ReplicaCheck(32)
)
ResNet34 = RESNET.register("resnet34", "ResNet34", Config((3, 4, 6, 3), "basic"))
ResNet50 = RESNET.register("resnet50", "ResNet50", Config((3, 4, 6, 3), "bottleneck"))
ResNet101 = RESNET.register("resnet101", "ResNet101", Config((3, 4, 23, 3), "bottleneck"))
ResNet152 = RESNET.register("resnet152", "ResNet152", Config((3, 8, 36, 3), "bottleneck"))
PlainNet18 = PLAIN.register(
    "plainnet18",
    "PlainNet18",
    Config((2, 2, 2, 2), "basic", residual=False),
    replica_check=ReplicaCheck(32),
)
PlainNet34 = PLAIN.register(
    "plainnet34", "PlainNet34", Config((3, 4, 6, 3), "basic", residual=False)
)
ResNeXt50 = RESNEXT.register(
    "resnext50_32x4d",
    "ResNeXt50",
    Config((3, 4, 6, 3), groups=32, width_per_group=4, **NEXT),
    # Replica equivalence with one block per stage (its grouped 3x3 convolutions of
    # cardinality 32, the 3x3-strided downsampling and the projection shortcuts, ResNeXt-50's
    # widths): at full depth its float64 runs part after a few steps however right the
    # strategy (a first step agrees to 9.3e-13; docs/roadmap.md); at (1, 1, 1, 1) five steps
    # agree to 5.1e-8.
    replica_check=ReplicaCheck(32, builder_options=(("depths", (1, 1, 1, 1)),)),
)
ResNeXt101 = RESNEXT.register(
    "resnext101_32x4d", "ResNeXt101", Config((3, 4, 23, 3), groups=32, width_per_group=4, **NEXT)
)
ResNeXt101_64x4d = RESNEXT.register(
    "resnext101_64x4d",
    "ResNeXt101_64x4d",
    Config((3, 4, 23, 3), groups=64, width_per_group=4, **NEXT),
)
ResNeXt101_32x8d = RESNEXT.register(
    "resnext101_32x8d",
    "ResNeXt101_32x8d",
    Config((3, 4, 23, 3), groups=32, width_per_group=8, **NEXT),
)

# Section 4.2 and Table 6: the CIFAR-10 nets of 6n+2 layers (n = 3, 5, 7, 9, 18), residual
# (option A) and plain.
CIFAR = dict(kind="basic", stem="cifar")
# The CIFAR nets train with section 4.2's recipe on any dataset.
RESNET_CIFAR = dataclasses.replace(
    RESNET,
    paper="He et al. 2016, section 4.2, Table 6 (CIFAR-10)",
    recipe=CIFAR_RECIPE,
    small_image_recipe=None,
)
PLAIN_CIFAR_FAMILY = dataclasses.replace(RESNET_CIFAR, paper=RESNET_CIFAR.paper + ", plain")
ResNet20_CIFAR = RESNET_CIFAR.register(
    "resnet20_cifar", "ResNet20_CIFAR", Config((3, 3, 3), **CIFAR)
)
ResNet32_CIFAR = RESNET_CIFAR.register(
    "resnet32_cifar", "ResNet32_CIFAR", Config((5, 5, 5), **CIFAR)
)
ResNet44_CIFAR = RESNET_CIFAR.register(
    "resnet44_cifar", "ResNet44_CIFAR", Config((7, 7, 7), **CIFAR)
)
ResNet56_CIFAR = RESNET_CIFAR.register(
    "resnet56_cifar", "ResNet56_CIFAR", Config((9, 9, 9), **CIFAR)
)
ResNet110_CIFAR = RESNET_CIFAR.register(
    "resnet110_cifar",
    "ResNet110_CIFAR",
    Config((18, 18, 18), **CIFAR),
    # ResNet-110 "use[s] 0.01 to warm up the training until the training error is below 80%
    # (about 400 iterations)": here a linear warm-up over the first epoch (352 iterations of
    # 45k images at batch 128).
    recipe=dataclasses.replace(CIFAR_RECIPE, warmup_epochs=1.0),
)
PLAIN_CIFAR = dict(residual=False, **CIFAR)
PlainNet20_CIFAR = PLAIN_CIFAR_FAMILY.register(
    "plain20_cifar", "PlainNet20_CIFAR", Config((3, 3, 3), **PLAIN_CIFAR)
)
PlainNet32_CIFAR = PLAIN_CIFAR_FAMILY.register(
    "plain32_cifar", "PlainNet32_CIFAR", Config((5, 5, 5), **PLAIN_CIFAR)
)
PlainNet44_CIFAR = PLAIN_CIFAR_FAMILY.register(
    "plain44_cifar", "PlainNet44_CIFAR", Config((7, 7, 7), **PLAIN_CIFAR)
)
PlainNet56_CIFAR = PLAIN_CIFAR_FAMILY.register(
    "plain56_cifar", "PlainNet56_CIFAR", Config((9, 9, 9), **PLAIN_CIFAR)
)
PlainNet110_CIFAR = PLAIN_CIFAR_FAMILY.register(
    "plain110_cifar", "PlainNet110_CIFAR", Config((18, 18, 18), **PLAIN_CIFAR)
)

# Section 4.2 (CIFAR-10) augments with 4 pixels padded on each side, a random 32x32 crop and
# its flip; for small whole-object images of any model (--augmentation pad_crop), no default.
register_augmentation(
    Augmentation(
        "pad_crop",
        "He et al. 2016, section 4.2 (CIFAR-10)",
        "eval",
        after_resize=("pad_and_crop",),
    )
)

# Hu et al. 2018 Table 1 (SE-ResNet-50, SE-ResNeXt-50) and section 5.1 (101, 152): the
# ResNet and ResNeXt rows with a squeeze-excitation in every block; SE-ResNets stride their
# first 1x1 as the ResNet rows (the authors' Caffe release), SE-ResNeXts their 3x3.
SEResNet50 = SENET.register(
    "seresnet50",
    "SEResNet50",
    Config((3, 4, 6, 3), "bottleneck", **SE),
    # Replica equivalence in float64 with one block per stage: the squeeze-excitation's
    # global mean, dense maps and gate in every block, at SE-ResNet-50's widths.
    replica_check=ReplicaCheck(32, builder_options=(("depths", (1, 1, 1, 1)),)),
)
SEResNet101 = SENET.register(
    "seresnet101", "SEResNet101", Config((3, 4, 23, 3), "bottleneck", **SE)
)
SEResNet152 = SENET.register(
    "seresnet152", "SEResNet152", Config((3, 8, 36, 3), "bottleneck", **SE)
)
SEResNeXt50 = SENET.register(
    "seresnext50_32x4d",
    "SEResNeXt50",
    Config((3, 4, 6, 3), groups=32, width_per_group=4, **NEXT, **SE),
)
SEResNeXt101 = SENET.register(
    "seresnext101_32x4d",
    "SEResNeXt101",
    Config((3, 4, 23, 3), groups=32, width_per_group=4, **NEXT, **SE),
)
# Appendix: SENet-154 is SE-ResNeXt-152 (64x4d) with a halved first 1x1 in every bottleneck,
# a stem of three 3x3 convs, 3x3 stride-2 downsampling projections and a dropout of 0.2 before
# the classifier; it trains with label smoothing (and frozen BN for the last few epochs,
# which a Recipe does not express).
SENet154 = SENET.register(
    "senet154",
    "SENet154",
    Config(
        (3, 8, 36, 3),
        groups=64,
        width_per_group=4,
        **NEXT,
        **SE,
        reduce_first=2,
        projection_kernel=3,
        dropout=0.2,
        stem="deep",
    ),
    recipe=dataclasses.replace(
        SENET_RECIPE, source="Hu et al. 2018, section 5.1 and appendix", label_smoothing=0.1
    ),
)
