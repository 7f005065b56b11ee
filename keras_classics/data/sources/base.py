"""What every source hands the pipeline: raw records plus a parser to a common record dict.

A record dict holds "image" (encoded bytes, tf.string scalar, or decoded uint8 [H, W, 3]),
"label" (int64, 0-based), "id" (tf.string naming the file or record), "code" / "detail"
(a decoders.REASONS code and message for bad data the parser already saw) and optionally
"synset" (checked against class_names[label] when the source asks for it).
"""

import dataclasses
import os
from collections.abc import Callable, Mapping
from typing import Optional

import tensorflow as tf

SPLITS = ("train", "validation", "test")


@dataclasses.dataclass(frozen=True)
class SourceDefaults:
    """What a source's images ask of a run whose caller does not say.

    Attributes:
      image_size: None: the model's input size (InputConfig.size); else the source's images
        are small and a run uses max(image_size, the model's min_size).
      augmentation: None: the model's paper's (its ModelSpec's `augmentation`);
        else a key of train_preprocessing.AUGMENTATIONS.
      crop_ratio: None: the model's evaluation crop (InputConfig.crop_ratio); 1.0 for images
        that are whole small objects, evaluated on the whole frame.
      run: what a training run (train/main.py) uses on this source where its command says
        nothing: keys of keras_classics.training.defaults.RunDefaults (recipe, epochs,
        batch_size, augmentation); empty: the paper's recipe with its epochs and batch.
    """

    image_size: Optional[int] = None
    augmentation: Optional[str] = None
    crop_ratio: Optional[float] = None
    run: Mapping = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Source:
    records: tf.data.Dataset
    parse: Callable
    num_classes: int
    class_names: list
    num_examples: Optional[int]
    encoded: bool
    defaults: SourceDefaults = dataclasses.field(default_factory=SourceDefaults)
    # records are already sharded for the input_context (file-level sharding).
    sharded: bool = False
    check_synset: bool = False
    name: str = ""
    # raw record -> tf.string id without parsing (names records whose parsing fails).
    raw_id: Optional[Callable] = None


def check_split(split, accepted=SPLITS):
    if split not in accepted:
        raise ValueError(f"split={split!r} is invalid; accepted: {', '.join(map(repr, accepted))}.")


def check_dir(data_dir, what):
    if data_dir is None:
        raise ValueError(
            f"data_dir=None is invalid for {what}; accepted: the directory that holds the data."
        )
    path = os.fspath(data_dir)
    if not os.path.isdir(path):
        raise ValueError(f"data_dir={path!r} is not a directory; {what} needs an existing one.")
    return path


def no_error(record):
    """Adds the "no error seen yet" code/detail to a record dict."""
    return {**record, "code": tf.constant(0), "detail": tf.constant("")}


def select_classes(labels, class_names, classes):
    """A class subset: (indices of the examples of `classes`, their labels renumbered 0..k-1 in
    the order `classes` gives, the subset's class names). `classes` are 0-based class indices
    of the source; None keeps every class (the identity)."""
    import numpy as np

    labels = np.asarray(labels, np.int64)
    if classes is None:
        return np.arange(len(labels)), labels, list(class_names)
    classes = check_classes(classes, len(class_names))
    new_label = np.full(len(class_names), -1, np.int64)
    new_label[list(classes)] = np.arange(len(classes))
    kept = np.flatnonzero(new_label[labels] >= 0)
    return kept, new_label[labels[kept]], [class_names[c] for c in classes]


def check_classes(classes, num_classes):
    """`classes` as a tuple of distinct class indices in [0, num_classes); ValueError naming
    the argument otherwise."""
    accepted = f"distinct class indices in [0, {num_classes}), at least one"
    try:
        values = tuple(int(c) for c in classes)
        ok = values and all(int(c) == c for c in classes)
    except (TypeError, ValueError):
        ok = False
    if not ok or len(set(values)) != len(values) or not all(0 <= c < num_classes for c in values):
        raise ValueError(f"classes={classes!r} is invalid; accepted: {accepted}.")
    return values
