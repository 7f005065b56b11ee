"""The ImageNet-1k class index, bundled (resources/NOTICE.md), so decoding works offline."""

import functools
import json
import os

import numpy as np

_INDEX = os.path.join(
    os.path.dirname(os.path.dirname(__file__)), "resources", "imagenet_class_index.json"
)


@functools.lru_cache(maxsize=1)
def class_index():
    """[(wordnet_id, name)] for the 1000 classes in the standard (sorted WordNet id) order."""
    with open(_INDEX, encoding="utf-8") as f:
        return [tuple(pair) for pair in json.load(f)]


def decode_predictions(preds, top=5, class_names=None):
    """Top-`top` (class id, name, score) per row of `preds` [N, classes].

    With the default ImageNet index, ids are WordNet ids (as keras.applications); pass
    `class_names` (a list, one per class) for a model trained on other classes.
    """
    preds = np.asarray(preds)
    classes = [(n, n) for n in class_names] if class_names is not None else class_index()
    if preds.ndim != 2 or preds.shape[1] != len(classes):
        raise ValueError(
            f"preds has shape {preds.shape}; accepted: (samples, {len(classes)}) "
            "scores, one column per class of the index."
        )
    if isinstance(top, bool) or not isinstance(top, int) or not 1 <= top <= len(classes):
        raise ValueError(f"top={top!r} is invalid; accepted: an integer in [1, {len(classes)}].")
    order = np.argsort(-preds, axis=1, kind="stable")[:, :top]
    return [[(*classes[i], float(row[i])) for i in idx] for row, idx in zip(preds, order)]
