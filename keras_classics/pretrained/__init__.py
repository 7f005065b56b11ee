"""Pretrained weights by name: `ResNet50(weights="imagenet")`, weight cards, the cache.

    model = keras_classics.ResNet50(weights="imagenet")              # the default card
    model = keras_classics.ResNet50(weights="torchvision:IMAGENET1K_V1")
    model = keras_classics.InceptionV4(weights="timm:inception_v4.tf_in1k")
    model = keras_classics.VGG16(weights="keras.applications")       # that source's card
    keras_classics.list_weights("resnet50"); keras_classics.get_weights("resnet50")

The user-facing side of the weights machinery, with every family's cards loaded: the cards
(keras_classics/weights/cards.py; each family module registers its own), the cache
(weights/cache.py) and the downloads (records/download.py); `keras-classics weights` (cli.py)
and its photo check (verify.py). docs/pretrained.md.
"""

from keras_classics import models  # registers every family's cards
from keras_classics.records import download
from keras_classics.records.download import DownloadError, HashMismatchError
from keras_classics.weights import cache
from keras_classics.weights.cache import converted_path, load
from keras_classics.weights.cards import (
    CARDS,
    DEFAULT,
    WeightCard,
    builder_options,
    default_card,
    get_weights,
    is_card_name,
    list_weights,
    pretrained_models,
    resolve,
)


def fetch(card, progress=True):
    """The converted weights file of `card`, made first if the cache lacks it: downloaded,
    verified and converted into a model of the card's architecture built for it."""
    path = cache.cached(card)
    if path is None:
        build = lambda: models.get_model(card.model, **card.builder_kwargs)  # noqa: E731
        path, _ = cache.convert(card, build, progress)
    return path


__all__ = [
    "CARDS",
    "DEFAULT",
    "DownloadError",
    "HashMismatchError",
    "WeightCard",
    "builder_options",
    "converted_path",
    "default_card",
    "download",
    "fetch",
    "get_weights",
    "is_card_name",
    "list_weights",
    "load",
    "pretrained_models",
    "resolve",
]
