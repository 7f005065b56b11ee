"""Class sub-folders streamed from disk: <data_dir>/[<split>/]<class>/<image files>.

Classes are the sorted sub-folder names (the raw ImageNet layout n01440764/*.JPEG gives the
standard label order). Every regular, non-hidden file in a class folder is an example: a file
that is not an image is reported by the pipeline, not silently left out.
"""

import os

import tensorflow as tf

from keras_classics.data.sources.base import (
    Source,
    check_dir,
    check_split,
    no_error,
    select_classes,
)

# Sub-folder names tried for each split, in order.
SPLIT_DIRS = {"train": ("train",), "validation": ("validation", "val"), "test": ("test",)}


def list_class_folders(root):
    """(class_names, files, labels) of a class-folder directory; ValueError if it has none."""
    classes = sorted(e.name for e in os.scandir(root) if e.is_dir() and not e.name.startswith("."))
    if not classes:
        raise ValueError(
            f"data_dir {root!r} has no class sub-folders; accepted: a directory "
            "with one sub-folder of images per class."
        )
    files, labels = [], []
    for label, name in enumerate(classes):
        folder = os.path.join(root, name)
        names = sorted(
            e.name for e in os.scandir(folder) if e.is_file() and not e.name.startswith(".")
        )
        files += [os.path.join(folder, n) for n in names]
        labels += [label] * len(names)
    if not files:
        raise ValueError(
            f"data_dir {root!r} has class folders ({', '.join(classes[:5])}"
            f"{' ...' if len(classes) > 5 else ''}) but no files in them."
        )
    return classes, files, labels


def split_root(data_dir, split):
    """The split's class-folder root: <data_dir>/<split dir> if present; for "train" the data_dir
    itself otherwise. validation/test never fall back to data_dir (it would be training data)."""
    for name in SPLIT_DIRS[split]:
        if os.path.isdir(os.path.join(data_dir, name)):
            return os.path.join(data_dir, name)
    if split == "train":
        return data_dir
    raise ValueError(
        f"split={split!r} needs a sub-folder {' or '.join(SPLIT_DIRS[split])!r} in "
        f"data_dir={data_dir!r}; accepted: <data_dir>/<split>/<class>/<files>."
    )


def load(split, data_dir, classes=None, **_):
    """classes: indices into the sorted training class folders (base.select_classes)."""
    subset = classes
    check_split(split)
    data_dir = check_dir(data_dir, "source='folder'")
    root = split_root(data_dir, split)
    classes, files, labels = list_class_folders(root)
    train_root = split_root(data_dir, "train")
    if root != train_root and os.path.isdir(train_root):
        # The label order is the training classes': a validation folder may lack a class.
        train_classes = sorted(
            e.name for e in os.scandir(train_root) if e.is_dir() and not e.name.startswith(".")
        )
        unknown = sorted(set(classes) - set(train_classes))
        if unknown:
            raise ValueError(
                f"{root!r} has class folders {unknown[:5]} that the training "
                f"folder {train_root!r} lacks; accepted: the training classes."
            )
        index = {c: i for i, c in enumerate(train_classes)}
        labels = [index[classes[i]] for i in labels]
        classes = train_classes
    kept, labels, classes = select_classes(labels, classes, subset)
    labels = labels.tolist()
    files = [files[i] for i in kept]
    records = tf.data.Dataset.from_tensor_slices((files, tf.constant(labels, tf.int64)))

    def parse(path, label):
        return no_error({"image": tf.io.read_file(path), "label": label, "id": path})

    return Source(
        records,
        parse,
        len(classes),
        classes,
        len(files),
        encoded=True,
        name="folder",
        raw_id=lambda path, label: path,
    )
