"""tensorflow-datasets image classification data sets, by name ("tfds:cifar10").

Images are read still encoded (tfds.decode.SkipDecoding) so the pipeline can decode and crop
in one step. imagenet2012 needs the ILSVRC2012 train/val tars in a manual dir: data_dir/manual
unless data_dir itself holds them.
"""

import os

import tensorflow as tf

from keras_classics.data.sources.base import Source, check_split, no_error

# Our split -> tfds splits tried in order.
SPLIT_NAMES = {"train": ("train",), "validation": ("validation", "test"), "test": ("test",)}


def _builder(name, data_dir):
    import tensorflow_datasets as tfds

    try:
        return tfds.builder(name, data_dir=data_dir)
    except Exception as err:
        raise ValueError(
            f"source='tfds:{name}' is invalid ({type(err).__name__}: {err}); "
            "accepted: 'tfds:' and a tensorflow-datasets name such as "
            "imagenet2012 or cifar10."
        ) from err


def _keys(builder, name):
    import tensorflow_datasets as tfds

    features = builder.info.features
    keys = builder.info.supervised_keys
    if keys and len(keys) == 2 and isinstance(keys[0], str):
        image_key, label_key = keys
    else:
        image_key, label_key = "image", "label"
    ok = (
        image_key in features
        and isinstance(features[image_key], tfds.features.Image)
        and label_key in features
        and isinstance(features[label_key], tfds.features.ClassLabel)
    )
    if not ok:
        raise ValueError(
            f"source='tfds:{name}' is not an image classification data set "
            "(no Image and ClassLabel features); accepted: data sets with both."
        )
    return image_key, label_key


def load(
    split,
    data_dir,
    *,
    name,
    training=False,
    seed=None,
    input_context=None,
    deterministic=False,
    **_,
):
    import tensorflow_datasets as tfds

    check_split(split)
    builder = _builder(name, data_dir)
    tfds_split = next((s for s in SPLIT_NAMES[split] if s in builder.info.splits), None)
    if not builder.info.splits:  # not prepared yet: the real split names come with it
        tfds_split = SPLIT_NAMES[split][0]
    if tfds_split is None:
        raise ValueError(
            f"split={split!r} is invalid for tfds:{name}; accepted: one mapping to "
            f"its splits {sorted(builder.info.splits)}."
        )
    image_key, label_key = _keys(builder, name)
    manual = None
    if data_dir is not None:
        manual = os.path.join(data_dir, "manual")
        manual = manual if os.path.isdir(manual) else data_dir
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=manual))
    read_config = tfds.ReadConfig(
        shuffle_seed=seed, input_context=input_context, add_tfds_id=True, interleave_cycle_length=16
    )
    records = builder.as_dataset(
        split=tfds_split,
        shuffle_files=training,
        decoders={image_key: tfds.decode.SkipDecoding()},
        read_config=read_config,
    )
    label_names = list(builder.info.features[label_key].names)

    def parse(example):
        rid = tf.strings.join([f"tfds:{name}/{tfds_split} ", example["tfds_id"]])
        return no_error(
            {"image": example[image_key], "label": tf.cast(example[label_key], tf.int64), "id": rid}
        )

    num = (
        builder.info.splits[tfds_split].num_examples if tfds_split in builder.info.splits else None
    )
    return Source(
        records,
        parse,
        len(label_names),
        label_names,
        num,
        encoded=True,
        sharded=input_context is not None,
        name=f"tfds:{name}",
        raw_id=lambda example: example["tfds_id"],
    )
