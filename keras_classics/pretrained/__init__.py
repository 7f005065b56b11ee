"""Pretrained weights by name: `ResNet50(weights="imagenet")`, weight cards, the cache.

    model = keras_classics.ResNet50(weights="imagenet")              # the default card
    model = keras_classics.ResNet50(weights="torchvision:IMAGENET1K_V1")
    model = keras_classics.InceptionV4(weights="timm:inception_v4.tf_in1k")
    model = keras_classics.VGG16(weights="keras.applications")       # that source's card
    keras_classics.list_weights("resnet50"); keras_classics.get_weights("resnet50")

A card (card.py; the table in cards.py) names an upstream file, its hash, the builder options
its weights need and what upstream published about it. On first use the file is downloaded
into the cache (download.py), verified, converted by keras_classics/convert into a
.weights.h5 with a .json record beside it, atomically and under a lock; later uses read the
converted file, checked against its record, and touch no network. docs/pretrained.md.
"""

import fnmatch
import json
import logging
import os

from keras_classics.pretrained import download
from keras_classics.pretrained.card import SOURCE_ORDER, SOURCES, WeightCard
from keras_classics.pretrained.cards import CARDS
from keras_classics.pretrained.download import DownloadError, HashMismatchError
from keras_classics.pretrained.loading import load_layers, stored_layers

logger = logging.getLogger(__name__)
DEFAULT = "imagenet"
RECORD_FORMAT = 1


def is_card_name(weights):
    """True for what names upstream weights rather than a file: "imagenet", a source
    ("keras.applications") or "SOURCE:TAG"."""
    return isinstance(weights, str) and (
        weights == DEFAULT or weights in SOURCES or weights.split(":", 1)[0] in SOURCES
    )


def list_weights(model=None):
    """The cards of `model` (a registry name, wildcards allowed: "resnet*"), or all; the
    default card of each model first."""
    names = sorted({c.model for c in CARDS.values()}, key=_registry_order)
    if model is not None:
        names = [n for n in names if fnmatch.fnmatchcase(n, model)]
    out = []
    for name in names:
        cards = [c for c in CARDS.values() if c.model == name]
        first = default_card(name)
        out += [first] + [c for c in cards if c is not first]
    return out


def _registry_order(name):
    from keras_classics.registry import list_models

    order = list_models()
    return order.index(name) if name in order else len(order)


def default_card(model):
    """The card "imagenet" means for `model`: the highest published top-1 among the cards
    whose licence allows commercial use (ties: torchvision, timm, keras.applications)."""
    cards = [c for c in CARDS.values() if c.model == model]
    if not cards:
        raise ValueError(
            f"weights={DEFAULT!r} is not available for model {model!r}; accepted: None or a "
            f"weights file. Models with pretrained weights: {', '.join(pretrained_models())}."
        )
    usable = [c for c in cards if "nc" not in c.license.lower().split("-")] or cards
    return max(usable, key=lambda c: (c.top1, -SOURCE_ORDER[c.source]))


def pretrained_models():
    return sorted({c.model for c in CARDS.values()}, key=_registry_order)


def resolve(model, weights):
    """The card `weights` names for registry model `model` ("imagenet", "SOURCE" or
    "SOURCE:TAG")."""
    if weights == DEFAULT:
        return default_card(model)
    cards = [c for c in CARDS.values() if c.model == model]
    if weights in SOURCES:
        matching = [c for c in cards if c.source == weights]
        if matching:
            return max(matching, key=lambda c: c.top1)
    else:
        for card in cards:
            if card.weights_tag == weights:
                return card
    accepted = ", ".join(repr(t) for t in [DEFAULT, *(c.weights_tag for c in cards)])
    raise ValueError(
        f"weights={weights!r} is not available for model {model!r}; accepted: None, a weights "
        f"file, or {accepted if cards else 'nothing pretrained (no card)'}."
    )


def get_weights(name):
    """The card named "MODEL" (its default), "MODEL:SOURCE[:TAG]" or "SOURCE:TAG" when that
    tag belongs to one model only."""
    if not isinstance(name, str):
        raise ValueError(f"name={name!r} is invalid; accepted: a card name such as 'resnet50'.")
    if name in CARDS:
        return CARDS[name]
    model, _, tag = name.partition(":")
    if model in SOURCES:
        found = [c for c in CARDS.values() if c.weights_tag == name]
        if len(found) == 1:
            return found[0]
        if found:
            raise ValueError(
                f"name={name!r} names the weights of {len(found)} models "
                f"({', '.join(c.model for c in found)}); accepted: MODEL:{name}."
            )
    elif model in pretrained_models():
        return resolve(model, tag or DEFAULT)
    raise ValueError(
        f"name={name!r} is not a weight card; accepted: a model with pretrained weights "
        f"({', '.join(pretrained_models())}), optionally :SOURCE[:TAG], or a full card name "
        "(`keras-classics weights list`)."
    )


# --- builder options ------------------------------------------------------------------------


def builder_options(card, passed):
    """The caller's options with the card's added; a conflicting value is a ValueError."""
    for key, needed in card.builder_kwargs.items():
        if key in passed and passed[key] != needed:
            raise ValueError(
                f"{key}={passed[key]!r} conflicts with weights={card.weights_tag!r} "
                f"({card.name}), whose weights need {key}={needed!r}; pass {key}={needed!r} "
                "or leave it out, or choose other weights."
            )
    return {**card.builder_kwargs, **passed}


# --- the cache ------------------------------------------------------------------------------


def converted_path(card):
    """Where the converted weights of `card` live in the cache (`keras-classics weights path`)."""
    return os.path.join(download.cache_dir(), card.model, card.file_name)


def _record_path(path):
    return path[: -len(".weights.h5")] + ".json"


def _valid(path):
    """True when `path` and its record exist and the file's sha256 is the recorded one."""
    record = _record_path(path)
    if not (os.path.isfile(path) and os.path.isfile(record)):
        return False
    try:
        with open(record) as f:
            recorded = json.load(f)["sha256"]
    except (OSError, ValueError, KeyError):
        return False
    return download.file_hash(path) == recorded


def fetch(card, progress=True):
    """The converted weights file of `card`, made first if the cache lacks it: download (or
    the mirror), verification, conversion, an atomic write of the file and its record."""
    from keras_classics import __version__
    from keras_classics.convert import SOURCES as CONVERTERS
    from keras_classics.convert import save_weights
    from keras_classics.fileio import atomic_path, write_json

    path = converted_path(card)
    with download.locked(card.name):
        if _valid(path):
            return path
        source = download.fetch(card.url, card.hashes, progress=progress)
        convert = CONVERTERS[card.source][0]
        model = convert(card.conversion, source)
        with atomic_path(path, suffix=".weights.h5") as tmp:
            save_weights(model, card.row, tmp, {})
            digest = download.file_hash(tmp)
        record = {
            "format": RECORD_FORMAT,
            "card": card.to_dict(),
            "sha256": digest,
            "source_file": source,
            "source_sha256": download.file_hash(source),
            "keras_classics": __version__,
        }
        write_json(_record_path(path), record)
    return path


def load(model, card, path):
    """Loads `card`'s converted weights file `path` into `model` by layer name
    (loading.load_layers): the body always; the classifier when its shape is the card's
    (classes=1000), else it stays randomly initialised (timm's semantics), as do auxiliary
    heads the card has no weights for; a first convolution on other input channels is adapted.
    Logs what is new."""
    new = load_layers(model, stored_layers(path), f"{card.weights_tag!r} ({card.name})")
    if new:
        logger.warning(
            "%s: %s loaded; %s randomly initialised (not in the pretrained weights).",
            model.name,
            card.name,
            ", ".join(new),
        )
    return model


__all__ = [
    "CARDS",
    "DownloadError",
    "HashMismatchError",
    "WeightCard",
    "default_card",
    "fetch",
    "get_weights",
    "list_weights",
    "resolve",
]
