"""tf.data input pipelines for the classic ImageNet CNNs; docs/data.md has examples.

    ds, info = keras_classics.data.get_dataset(
        "imagenet", "train", model="resnet50", global_batch_size=256, training=True,
        data_dir="/data/imagenet/tfrecords", label_offset=1)

Modules, one concept each: decoders (bytes -> tensors), sources/ (tfrecord, tfds, folder,
fashion_mnist), train_preprocessing / eval_preprocessing (the papers' augmentations and crops),
pipeline (get_dataset), build_tfrecords (the converter).
"""

from keras_classics.data.eval_preprocessing import (
    eval_preprocess,
    eval_preprocess_jpeg,
    ten_crop_predict,
    ten_crop_preprocess,
)
from keras_classics.data.pipeline import DatasetInfo, find_bad_records, get_dataset
from keras_classics.data.sources import SourceDefaults
from keras_classics.data.sources import defaults as source_defaults
from keras_classics.data.train_preprocessing import (
    AUGMENTATIONS,
    default_augmentation,
    train_preprocess,
)

__all__ = [
    "AUGMENTATIONS",
    "DatasetInfo",
    "SourceDefaults",
    "default_augmentation",
    "eval_preprocess",
    "eval_preprocess_jpeg",
    "find_bad_records",
    "get_dataset",
    "source_defaults",
    "ten_crop_predict",
    "ten_crop_preprocess",
    "train_preprocess",
]
