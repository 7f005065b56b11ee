"""The tfds:NAME source offline: tensorflow_datasets.testing.mock_data generates random examples
matching a builder's features (MockPolicy.USE_CODE: from the builder's code, no metadata files,
no download). The manual_dir layout of imagenet2012 is checked on what get_dataset hands
download_and_prepare."""

import os
import re

import numpy as np
import pytest
import tensorflow as tf

from keras_classics.data import get_dataset

tfds = pytest.importorskip("tensorflow_datasets")


@pytest.fixture
def mocked():
    with tfds.testing.mock_data(num_examples=8, policy=tfds.testing.MockPolicy.USE_CODE):
        yield


@pytest.mark.parametrize("training", [True, False])
def test_tfds_cifar10_shapes_dtypes_and_classes(mocked, training):
    ds, info = get_dataset(
        "tfds:cifar10",
        "train" if training else "validation",
        model="resnet18",
        global_batch_size=4,
        training=training,
        image_size=32,
    )
    x, y = next(iter(ds))
    assert x.shape == (4, 32, 32, 3) and x.dtype == tf.uint8 and y.dtype == tf.int32
    assert ((y.numpy() >= 0) & (y.numpy() < 10)).all()
    assert info.num_classes == 10 and info.source == "tfds:cifar10"
    # Without the prepared data set's label file tfds names the classes "0".."9"; the names
    # are whatever the builder says, in label order.
    names = tfds.builder("cifar10").info.features["label"].names
    assert info.class_names == list(names) and len(names) == 10
    assert np.isfinite(x.numpy()).all() and x.numpy().std() > 0.1


def test_tfds_imagenet2012_classes_are_the_synsets(mocked):
    ds, info = get_dataset(
        "tfds:imagenet2012",
        "validation",
        model="resnet18",
        global_batch_size=2,
        training=False,
        image_size=64,
    )
    x, y = next(iter(ds))
    assert x.shape == (2, 64, 64, 3) and x.dtype == tf.uint8
    assert info.num_classes == 1000
    assert info.class_names[:2] == ["n01440764", "n01443537"]


def test_tfds_unknown_name_is_named(mocked):
    with pytest.raises(ValueError, match="source='tfds:no_such_dataset_xyz' is invalid"):
        get_dataset(
            "tfds:no_such_dataset_xyz",
            "train",
            model="resnet18",
            global_batch_size=2,
            training=True,
        )


@pytest.mark.parametrize("layout", ["manual_subdir", "data_dir"])
def test_tfds_imagenet2012_manual_dir(mocked, tmp_path, monkeypatch, layout):
    # The ILSVRC2012 tars are looked for in <data_dir>/manual, else in data_dir itself.
    if layout == "manual_subdir":
        os.makedirs(tmp_path / "manual")
    seen = {}
    real = tfds.core.DatasetBuilder.download_and_prepare

    def spy(self, *args, download_config=None, **kwargs):
        seen["manual_dir"] = download_config.manual_dir
        return real(self, *args, download_config=download_config, **kwargs)

    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", spy)
    get_dataset(
        "tfds:imagenet2012",
        "train",
        model="resnet18",
        global_batch_size=2,
        training=True,
        data_dir=str(tmp_path),
    )
    expected = tmp_path / "manual" if layout == "manual_subdir" else tmp_path
    assert os.fspath(seen["manual_dir"]) == str(expected)


def test_tfds_imagenet2012_without_tars_fails_naming_the_manual_dir(tmp_path):
    # Real download_and_prepare (not mocked): tfds needs importlib_resources to find the
    # builder's checksums, which tensorflow-datasets does not declare.
    pytest.importorskip("importlib_resources")
    os.makedirs(tmp_path / "manual")
    with pytest.raises(Exception, match=re.compile("manual", re.IGNORECASE)):
        get_dataset(
            "tfds:imagenet2012",
            "train",
            model="resnet18",
            global_batch_size=2,
            training=True,
            data_dir=str(tmp_path),
        )
