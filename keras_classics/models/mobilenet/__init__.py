"""MobileNet v1, v2 and v3: one family, a builder each, rows in tables.

The family's package, a module per concern: v1.py, v2.py, v3.py (each paper's table, blocks,
body and options), units.py (what they share: width rounding, the releases' padding and BN
conventions, the conv + BN unit), this module (the training records and the registered rows)
and weights.py (the conversion rows and weight cards of torchvision, timm and
keras.applications).
"""

from keras_classics.models import _core
from keras_classics.models.mobilenet import (
    v1,
    v2,
    v3,
    weights,  # noqa: F401  (registers rows and cards)
)
from keras_classics.models.mobilenet.units import (
    MOBILENET_V1_PAPER,
    MOBILENET_V2_PAPER,
    MOBILENET_V3_PAPER,
)
from keras_classics.records.augmentation import Augmentation
from keras_classics.records.recipe import Recipe
from keras_classics.records.registry import ReplicaCheck

# Augmentation: the releases train with TF-slim's Inception preprocessing (TF-slim's MobileNet
# v2 training setup; v1 section 3.4: "less ... data
# augmentation", and its TF-slim release still uses the Inception crop): a window of 8-100% of
# the area at aspect 3/4-4/3, resized, flipped. TF-slim's colour distortion is left out: the
# v1 paper trains with less augmentation than Inception, and the v3 paper names none.
AUGMENTATION = Augmentation(
    "mobilenet", "Howard et al. 2017, section 3.4; Sandler et al. 2018, section 6.1", "area"
)

# v1, section 3.4: "trained in TensorFlow using RMSprop with asynchronous gradient descent
# similar to Inception V3", with less regularisation and "very little or no weight decay" on
# the depthwise filters; the paper gives no numbers, so Inception V3's (Szegedy et al. 2016,
# section 8: RMSProp decay 0.9, epsilon 1.0, LR 0.045 x 0.94 every 2 epochs, batch 32,
# gradient clipping 2.0, 100 epochs) with TF-slim MobileNet's weight decay 4e-5 (on every
# kernel: a recipe cannot exempt the depthwise ones).
V1_RECIPE = Recipe(
    "Howard et al. 2017, section 3.4, as Inception V3 (Szegedy et al. 2016, section 8)",
    "rmsprop",
    0.045,
    32,
    100,
    "exponential",
    4e-5,
    decay_rate=0.94,
    decay_epochs=2,
    clip_norm=2.0,
)
# v2, section 6.1: RMSProp with decay and momentum 0.9, weight decay 4e-5, LR 0.045 decayed by
# 0.98 per epoch, batch 96 (16 asynchronous GPU workers). The paper gives no epoch count:
# 300, where 0.98 per epoch has brought the LR to 0.2% of its start.
V2_RECIPE = Recipe(
    "Sandler et al. 2018, section 6.1",
    "rmsprop",
    0.045,
    96,
    300,
    "exponential",
    4e-5,
    decay_rate=0.98,
    decay_epochs=1,
)
# v3, section 6.1: a 4x4 TPU pod, RMSProp momentum 0.9, LR 0.1 at batch 4096, "learning rate
# decay rate of 0.01 every 3 epochs" (read as x0.99 every 3 epochs: a factor of 0.01 every 3
# epochs would end training within 10 epochs), dropout 0.8 keep (the head's), L2 1e-5, EMA
# 0.9998, BN decay 0.99 (v3.CONVENTIONS). No epoch count given: 350, as the MnasNet config of
# the same search (tensorflow/tpu's mnasnet_config.py, about 350 epochs).
V3_RECIPE = Recipe(
    "Howard et al. 2019, section 6.1",
    "rmsprop",
    0.1,
    4096,
    350,
    "exponential",
    1e-5,
    decay_rate=0.99,
    decay_epochs=3,
    ema_decay=0.9998,
)


def _family(paper, module, recipe):
    # The releases' weights take [-1, 1] inputs (TF-slim's and keras.applications' "tf"
    # preprocessing); torchvision's take ImageNet mean/std (their cards' input says so).
    return _core.Family(
        "mobilenet",
        paper,
        module.configure,
        module.body,
        module.OPTIONS,
        mode="tf",
        describe=module.summary,
        augmentation=AUGMENTATION,
        recipe=recipe,
        module=__name__,
    )


MOBILENET_V1 = _family(MOBILENET_V1_PAPER, v1, V1_RECIPE)
MOBILENET_V2 = _family(MOBILENET_V2_PAPER, v2, V2_RECIPE)
MOBILENET_V3_LARGE = _family(MOBILENET_V3_PAPER + ", Table 1", v3, V3_RECIPE)
MOBILENET_V3_SMALL = _family(MOBILENET_V3_PAPER + ", Table 2", v3, V3_RECIPE)

MobileNet = MOBILENET_V1.register("mobilenet_v1", "MobileNet", v1.Config())
# Replica equivalence in float64 (BN, as ResNet-18's), on 32-pixel inputs, over three steps:
# the worst relative difference of two replicas from one device grows about tenfold a step
# (9.4e-8, 3.8e-7, 3.6e-6 after one, two, three steps; 1.2 after five; measured on a 2-core
# Xeon), as float32's rounding differences grow in the other nets (equivalence's docstring);
# why MobileNetV2 amplifies float64's so is not yet known (docs/roadmap.md). Its linear
# bottlenecks also make some tensors exactly zero in exact arithmetic, which the check
# compares against a floor (equivalence.ROUNDING_ZERO), not their rounding noise.
MobileNetV2 = MOBILENET_V2.register(
    "mobilenet_v2", "MobileNetV2", v2.Config(), replica_check=ReplicaCheck(32, steps=3)
)
MobileNetV3Large = MOBILENET_V3_LARGE.register(
    "mobilenet_v3_large", "MobileNetV3Large", v3.Config(v3.LARGE, 1280)
)
MobileNetV3Small = MOBILENET_V3_SMALL.register(
    "mobilenet_v3_small", "MobileNetV3Small", v3.Config(v3.SMALL, 1024)
)
