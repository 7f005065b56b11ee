"""ImageNet-format TFRecord shards: <data_dir>/<split>-00000-of-01024 ...

The label convention is never guessed: TensorFlow's build_imagenet_data.py writes 1..1000
(0 = background), other tools 0..999. `label_offset` (subtracted from image/class/label) comes
from the caller or from the dataset_info.json our converter writes next to the shards. Where
records carry image/class/synset and the classes are synsets, every label is also checked
against its synset, so a wrong offset fails on the first record instead of training on shifted
labels.
"""

import glob
import json
import os

import tensorflow as tf

from keras_classics.data import decoders
from keras_classics.data.sources.base import Source, check_dir, check_split
from keras_classics.records.imagenet import class_index

INFO_FILE = "dataset_info.json"
# Standard ImageNet-1k shard counts -> examples (build_imagenet_data.py defaults).
IMAGENET_COUNTS = {("train", 1024): 1281167, ("validation", 128): 50000}


def read_info(data_dir):
    path = os.path.join(data_dir, INFO_FILE)
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def shard_files(data_dir, split):
    files = sorted(glob.glob(os.path.join(data_dir, f"{split}-*-of-*")))
    if not files:
        raise ValueError(
            f"data_dir={data_dir!r} has no TFRecord shards for split={split!r}; "
            f"accepted: files named {split}-NNNNN-of-NNNNN (ImageNet layout)."
        )
    return files


def load(
    split,
    data_dir,
    *,
    label_offset=None,
    training=False,
    seed=None,
    input_context=None,
    deterministic=False,
    **_,
):
    check_split(split)
    data_dir = check_dir(data_dir, "source='imagenet' (TFRecord shards)")
    files = shard_files(data_dir, split)
    info = read_info(data_dir)
    if label_offset is None:
        label_offset = info.get("label_offset")
        if label_offset is None:
            raise ValueError(
                f"label_offset=None and {data_dir!r} has no {INFO_FILE} saying how its labels "
                "count; accepted: label_offset=1 for shards of build_imagenet_data.py (labels "
                "1..1000) or label_offset=0 for 0-based labels."
            )
    if label_offset not in (0, 1) or isinstance(label_offset, bool):
        raise ValueError(
            f"label_offset={label_offset!r} is invalid; accepted: 1 (labels "
            "1..N on disk) or 0 (labels 0..N-1)."
        )
    if "class_names" in info:
        class_names = list(info["class_names"])
    else:
        class_names = [wnid for wnid, _ in class_index()]
    split_info = info.get("splits", {}).get(split, {})
    num_examples = split_info.get("num_examples", IMAGENET_COUNTS.get((split, len(files))))

    sharded = False
    file_ds = tf.data.Dataset.from_tensor_slices(files)
    if input_context is not None and len(files) >= input_context.num_input_pipelines:
        file_ds = file_ds.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
        sharded = True
    if training:
        file_ds = file_ds.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)

    def read(path):
        ds = tf.data.TFRecordDataset(path, buffer_size=8 << 20).enumerate()
        return ds.map(
            lambda i, s: (tf.strings.join([path, ":record ", tf.strings.as_string(i)]), s)
        )

    records = file_ds.interleave(
        read,
        cycle_length=min(len(files), 16),
        block_length=1,
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=deterministic,
    )

    def parse(rid, serialized):
        rec = decoders.parse_imagenet_example(serialized, rid)
        rec["label"] = rec["label"] - label_offset
        return rec

    return Source(
        records,
        parse,
        len(class_names),
        class_names,
        num_examples,
        encoded=True,
        sharded=sharded,
        check_synset=all(n.startswith("n") for n in class_names),
        name="imagenet",
        raw_id=lambda rid, serialized: rid,
    )
