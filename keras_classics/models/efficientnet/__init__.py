"""EfficientNet and EfficientNet-Lite: one family, one builder, rows in a table.

The family's package, a module per concern, as ResNet's: architecture.py (Table 1, the
scaling rule, the MBConv block, the body and the options), this module (the training records
and the registered rows, one public builder each) and weights.py (the conversion rows and
weight cards of torchvision, timm and keras.applications).
"""

from keras_classics.models import _core
from keras_classics.models.efficientnet import weights  # noqa: F401  (registers rows and cards)
from keras_classics.models.efficientnet.architecture import (
    LITE_PAPER,
    OPTIONS,
    PAPER,
    STOCHASTIC_DEPTH,
    Config,
    body,
    configure,
    summary,
)
from keras_classics.records.augmentation import Augmentation
from keras_classics.records.recipe import Recipe
from keras_classics.records.registry import ReplicaCheck

# Training. Section 5.2: RMSProp decay 0.9, momentum 0.9, BN momentum 0.99, weight decay 1e-5,
# LR 0.256 decayed by 0.97 every 2.4 epochs, SiLU, AutoAugment, stochastic depth with survival
# probability 0.8 (the drop_path_rate option), dropout 0.2 (B0) to 0.5 (B7). The release's
# main.py adds what the paper leaves out: a 5-epoch linear warm-up, 350 epochs, EMA of the
# weights 0.9999, label smoothing 0.1, RMSProp epsilon 1e-3, and its LR of 0.016 per 256 images
# (0.256 at the paper's batch 4096; the TPU default batch 2048 gets 0.128). Its weight decay
# leaves out the BN parameters (not the biases: a recipe exempts both).
# AutoAugment is not in this package; the release's RandAugment checkpoints (N=2, M=17 for B5,
# M=28 for B7) use TensorFlow's magnitudes beyond this package's 0-10 scale (Cubuk et al.'s),
# so the recipe keeps the Inception crop and flip without either (--randaugment adds one).
RECIPE = Recipe(
    "Tan & Le 2019, section 5.2; tensorflow/tpu efficientnet main.py",
    "rmsprop",
    0.256,
    4096,
    350,
    "exponential",
    1e-5,
    decay_rate=0.97,
    decay_epochs=2.4,
    decay_norm_and_bias=False,
    label_smoothing=0.1,
    rmsprop_epsilon=1e-3,
    warmup_epochs=5,
    ema_decay=0.9999,
    bn_momentum=0.99,
    stochastic_depth=STOCHASTIC_DEPTH,
)
# The release's preprocessing.py: a distorted bounding-box crop of 8-100% of the area at
# aspect 3/4-4/3, resized, flipped (Inception's), before AutoAugment.
AUGMENTATION = Augmentation(
    "efficientnet", "Tan & Le 2019, section 5.2; tensorflow/tpu preprocessing.py", "area"
)


def _family(paper, mode):
    return _core.Family(
        "efficientnet",
        paper,
        configure,
        body,
        OPTIONS,
        mode=mode,
        describe=summary,
        augmentation=AUGMENTATION,
        recipe=RECIPE,
        module=__name__,  # the rows below assign the builders; the body is architecture.py's
    )


# The B models take ImageNet mean/std inputs (keras.applications' in-model normalisation,
# torchvision, timm's tf_efficientnet_* but the AdvProp weights); the Lite models [-1, 1].
FAMILY = _family(PAPER, "torch")
LITE = _family(LITE_PAPER, "tf")

# Compound scaling (width, depth, resolution, dropout): efficientnet_builder.py's
# efficientnet_params, and lite/efficientnet_lite_builder.py's for Lite.
EfficientNetB0 = FAMILY.register(
    "efficientnet_b0",
    "EfficientNetB0",
    Config(1.0, 1.0, 224, 0.2),
    # Replica equivalence in float64 at 32 px with one block a stage: the stem, both block
    # kinds (MBConv1 and MBConv6, 3x3 and 5x5, strided and not), SE and the head, at a cost
    # the CI bears; stochastic depth off (its masks are compared by the layer's own tests).
    replica_check=ReplicaCheck(
        32,
        builder_options=(("depths", (1, 2, 1, 1, 1, 1, 1)), ("drop_path_rate", 0.0)),
    ),
)
EfficientNetB1 = FAMILY.register("efficientnet_b1", "EfficientNetB1", Config(1.0, 1.1, 240, 0.2))
EfficientNetB2 = FAMILY.register("efficientnet_b2", "EfficientNetB2", Config(1.1, 1.2, 260, 0.3))
EfficientNetB3 = FAMILY.register("efficientnet_b3", "EfficientNetB3", Config(1.2, 1.4, 300, 0.3))
EfficientNetB4 = FAMILY.register("efficientnet_b4", "EfficientNetB4", Config(1.4, 1.8, 380, 0.4))
EfficientNetB5 = FAMILY.register("efficientnet_b5", "EfficientNetB5", Config(1.6, 2.2, 456, 0.4))
EfficientNetB6 = FAMILY.register("efficientnet_b6", "EfficientNetB6", Config(1.8, 2.6, 528, 0.5))
EfficientNetB7 = FAMILY.register("efficientnet_b7", "EfficientNetB7", Config(2.0, 3.1, 600, 0.5))
# The Lite release's resolutions (280 and 300 for Lite3 and Lite4; timm's weight cards
# evaluate them at 300 and 380).
EfficientNetLite0 = LITE.register(
    "efficientnet_lite0", "EfficientNetLite0", Config(1.0, 1.0, 224, 0.2, lite=True)
)
EfficientNetLite1 = LITE.register(
    "efficientnet_lite1", "EfficientNetLite1", Config(1.0, 1.1, 240, 0.2, lite=True)
)
EfficientNetLite2 = LITE.register(
    "efficientnet_lite2", "EfficientNetLite2", Config(1.1, 1.2, 260, 0.3, lite=True)
)
EfficientNetLite3 = LITE.register(
    "efficientnet_lite3", "EfficientNetLite3", Config(1.2, 1.4, 280, 0.3, lite=True)
)
EfficientNetLite4 = LITE.register(
    "efficientnet_lite4", "EfficientNetLite4", Config(1.4, 1.8, 300, 0.3, lite=True)
)
