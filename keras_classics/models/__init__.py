"""Model families, one module each; importing them fills the registry, the conversion rows and
the weight cards in the README model table's order (AlexNet, VGG, GoogLeNet and the Inception line,
ResNet, ResNeXt).

The lookups of those tables are answered from here (and from the package face, which loads
this package first): the tables below Keras only store, and are complete once the families
are imported.
"""

from keras_classics.models._core import inference_model
from keras_classics.models.features import FeatureInfo, feature_info
from keras_classics.models.alexnet import AlexNet
from keras_classics.models.vgg import (
    VGG11,
    VGG11BN,
    VGG11LRN,
    VGG13,
    VGG13BN,
    VGG16,
    VGG16BN,
    VGG16C,
    VGG19,
    VGG19BN,
)
from keras_classics.models.googlenet import GoogLeNet
from keras_classics.models.bn_inception import BNInception
from keras_classics.models.inception_v3 import InceptionV2, InceptionV3
from keras_classics.models.inception_v4 import InceptionV4
from keras_classics.models.inception_resnet import InceptionResNetV1, InceptionResNetV2
from keras_classics.models.resnet import (
    PlainNet18,
    PlainNet20_CIFAR,
    PlainNet32_CIFAR,
    PlainNet34,
    PlainNet44_CIFAR,
    PlainNet56_CIFAR,
    PlainNet110_CIFAR,
    ResNet18,
    ResNet20_CIFAR,
    ResNet32_CIFAR,
    ResNet44_CIFAR,
    ResNet56_CIFAR,
    ResNet110_CIFAR,
    ResNet34,
    ResNet50,
    ResNet101,
    ResNet152,
    ResNeXt50,
    ResNeXt101,
    ResNeXt101_32x8d,
    ResNeXt101_64x4d,
    SENet154,
    SEResNet50,
    SEResNet101,
    SEResNet152,
    SEResNeXt50,
    SEResNeXt101,
)
from keras_classics.models.densenet import (
    DenseNet121,
    DenseNet161,
    DenseNet169,
    DenseNet201,
    DenseNet264,
)
from keras_classics.models.mobilenet import (
    MobileNet,
    MobileNetV2,
    MobileNetV3Large,
    MobileNetV3Small,
)
from keras_classics.models.dpn import DPN68, DPN92, DPN98, DPN107, DPN131
from keras_classics.models.nfnet import (
    NFNetF0,
    NFNetF1,
    NFNetF2,
    NFNetF3,
    NFNetF4,
    NFNetF5,
    NFNetF6,
    NFResNet50,
)
from keras_classics.models.igc import IGC_L4M32, IGC_L16M16, IGC_L100M2
from keras_classics.models.mnasnet import (
    MnasNet0_5,
    MnasNet0_75,
    MnasNet1_0,
    MnasNet1_3,
    MnasNetA1,
)
from keras_classics.models.shufflenet import (
    ShuffleNetV1_G1,
    ShuffleNetV1_G2,
    ShuffleNetV1_G3,
    ShuffleNetV1_G4,
    ShuffleNetV1_G8,
    ShuffleNetV2_x0_5,
    ShuffleNetV2_x1_0,
    ShuffleNetV2_x1_5,
    ShuffleNetV2_x2_0,
)
from keras_classics.models.efficientnet import (
    EfficientNetB0,
    EfficientNetB1,
    EfficientNetB2,
    EfficientNetB3,
    EfficientNetB4,
    EfficientNetB5,
    EfficientNetB6,
    EfficientNetB7,
    EfficientNetLite0,
    EfficientNetLite1,
    EfficientNetLite2,
    EfficientNetLite3,
    EfficientNetLite4,
)
from keras_classics.models.residual_attention import (
    AttentionNeXt56,
    ResidualAttention56,
    ResidualAttention92,
)

# Not in __all__ (the package face): the training pipeline's lookup of the augmentations the
# families register.
from keras_classics.records.augmentation import augmentations  # noqa: F401
from keras_classics.records.registry import (
    ModelSpec,
    get_model,
    get_spec,
    list_models as _list_models,
    register_model,
)
from keras_classics.weights.cards import get_weights, list_weights, pretrained_models


def list_models(pattern=None, *, family=None, pretrained=False):
    """Registered model names, in registration order.

    Args:
      pattern: None for all; a family name ("resnet", as the first argument always took),
        or names with wildcards as timm's list_models takes them ("resnet*", "*_bn").
      family: only this family's models.
      pretrained: only the models with weight cards (`weights="imagenet"`).
    """
    names = _list_models(pattern, family=family)
    if pretrained:
        names = [n for n in names if n in set(pretrained_models())]
    return names


__all__ = [
    "AlexNet",
    "VGG11",
    "VGG11BN",
    "VGG11LRN",
    "VGG13",
    "VGG13BN",
    "VGG16",
    "VGG16BN",
    "VGG16C",
    "VGG19",
    "VGG19BN",
    "GoogLeNet",
    "BNInception",
    "InceptionV2",
    "InceptionV3",
    "InceptionV4",
    "InceptionResNetV1",
    "InceptionResNetV2",
    "PlainNet18",
    "PlainNet34",
    "ResNet18",
    "ResNet34",
    "ResNet50",
    "ResNet101",
    "ResNet152",
    "ResNeXt50",
    "ResNeXt101",
    "ResNeXt101_32x8d",
    "ResNeXt101_64x4d",
    "ResNet20_CIFAR",
    "ResNet32_CIFAR",
    "ResNet44_CIFAR",
    "ResNet56_CIFAR",
    "ResNet110_CIFAR",
    "PlainNet20_CIFAR",
    "PlainNet32_CIFAR",
    "PlainNet44_CIFAR",
    "PlainNet56_CIFAR",
    "PlainNet110_CIFAR",
    "SEResNet50",
    "SEResNet101",
    "SEResNet152",
    "SEResNeXt50",
    "SEResNeXt101",
    "SENet154",
    "DenseNet121",
    "DenseNet169",
    "DenseNet201",
    "DenseNet264",
    "DenseNet161",
    "MobileNet",
    "MobileNetV2",
    "MobileNetV3Large",
    "MobileNetV3Small",
    "DPN68",
    "DPN92",
    "DPN98",
    "DPN107",
    "DPN131",
    "NFNetF0",
    "NFNetF1",
    "NFNetF2",
    "NFNetF3",
    "NFNetF4",
    "NFNetF5",
    "NFNetF6",
    "NFResNet50",
    "IGC_L4M32",
    "IGC_L16M16",
    "IGC_L100M2",
    "MnasNetA1",
    "MnasNet0_5",
    "MnasNet0_75",
    "MnasNet1_0",
    "MnasNet1_3",
    "ShuffleNetV1_G1",
    "ShuffleNetV1_G2",
    "ShuffleNetV1_G3",
    "ShuffleNetV1_G4",
    "ShuffleNetV1_G8",
    "ShuffleNetV2_x0_5",
    "ShuffleNetV2_x1_0",
    "ShuffleNetV2_x1_5",
    "ShuffleNetV2_x2_0",
    "EfficientNetB0",
    "EfficientNetB1",
    "EfficientNetB2",
    "EfficientNetB3",
    "EfficientNetB4",
    "EfficientNetB5",
    "EfficientNetB6",
    "EfficientNetB7",
    "EfficientNetLite0",
    "EfficientNetLite1",
    "EfficientNetLite2",
    "EfficientNetLite3",
    "EfficientNetLite4",
    "ResidualAttention56",
    "ResidualAttention92",
    "AttentionNeXt56",
    "FeatureInfo",
    "feature_info",
    "inference_model",
    # The tables' lookups, answered once every family above is registered.
    "ModelSpec",
    "get_model",
    "get_spec",
    "get_weights",
    "list_models",
    "list_weights",
    "register_model",
]
