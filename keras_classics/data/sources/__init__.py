"""Data sources, one module each: ImageNet TFRecords, tensorflow-datasets, class folders,
Fashion-MNIST. Each `load(split, data_dir, ...)` returns a base.Source."""

from keras_classics.data.sources import fashion_mnist, folder, tfds, tfrecord
from keras_classics.data.sources.base import Source, SourceDefaults

NAMED = {"imagenet": tfrecord.load, "folder": folder.load, "fashion_mnist": fashion_mnist.load}
# Sources that take a class subset (classes=: base.select_classes); the others stream records
# whose labels are known only once parsed, and refuse it.
CLASS_SUBSET_SOURCES = ("fashion_mnist", "folder")
# Sources whose images ask for other run defaults than the model's (SourceDefaults).
DEFAULTS = {"fashion_mnist": fashion_mnist.DEFAULTS}


def defaults(source):
    """The SourceDefaults of a get_dataset `source` string, without reading its data."""
    return DEFAULTS.get(source, SourceDefaults())


def load(source, split, data_dir, **kwargs):
    """The Source for a get_dataset `source` string."""
    if kwargs.get("classes") is not None and source not in CLASS_SUBSET_SOURCES:
        raise ValueError(
            f"classes={kwargs['classes']!r} is not supported for source={source!r}; "
            f"accepted: a class subset of {', '.join(map(repr, CLASS_SUBSET_SOURCES))}."
        )
    if isinstance(source, str) and source.startswith("tfds:") and len(source) > 5:
        return tfds.load(split, data_dir, name=source[5:], **kwargs)
    if source not in NAMED:
        raise ValueError(
            f"source={source!r} is invalid; accepted: {', '.join(map(repr, NAMED))} or 'tfds:NAME'."
        )
    return NAMED[source](split, data_dir, **kwargs)


__all__ = ["Source", "SourceDefaults", "defaults", "load"]
