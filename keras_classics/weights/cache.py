"""The cache of converted weights: a card's upstream file, downloaded and verified
(records/download.py), converted once into a .weights.h5 with a .json record beside it.

The builder core (models/_core.py) downloads the upstream file before it builds, then converts
it into the model it has just built when that model is the card's architecture (the common
`ResNet50(weights="imagenet")`), or into a model of the card's options that the builder makes
itself (include_top=False, other classes, other input channels: the cache keeps the whole
network, which then loads by layer name into the part asked for). The file and its record
are written atomically and under a lock; later builds read the converted file, checked
against its record, and touch no network. docs/pretrained.md.
"""

import json
import logging
import os

from keras_classics.records import download
from keras_classics.records.fileio import atomic_path, write_json
from keras_classics.records.version import __version__
from keras_classics.weights.checkpoint import read_checkpoint
from keras_classics.weights.conversion import assign, save_weights
from keras_classics.weights.loading import load_layers, stored_layers

logger = logging.getLogger(__name__)
RECORD_FORMAT = 1


def converted_path(card):
    """Where the converted weights of `card` live in the cache (`keras-classics weights path`)."""
    return os.path.join(download.cache_dir(), card.model, card.file_name)


def _record_path(path):
    return path[: -len(".weights.h5")] + ".json"


def cached(card):
    """The converted file of `card` when the cache holds it, valid; else None."""
    path = converted_path(card)
    return path if _valid(path) else None


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


def download_source(card, progress=True):
    """The upstream file of `card` in the cache, downloaded (or from the mirror) and verified
    first if needed (download.fetch)."""
    return download.fetch(card.url, card.hashes, progress=progress)


def convert(card, reference, progress=True):
    """(path, model): the converted weights file of `card`, made first if the cache lacks it,
    and the model it was converted into (None when another process made it meanwhile): the
    upstream file converted into `reference()`, a model of the card's architecture with its
    builder options, then an atomic write of the file and its record."""
    path = converted_path(card)
    with download.locked(card.name):
        if _valid(path):
            return path, None
        source = download_source(card, progress)
        model = assign(card.row, reference(), read_checkpoint(source))
        with atomic_path(path, suffix=".weights.h5") as tmp:
            save_weights(model, card.row, tmp, dict(card.options))
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
    return path, model


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
