"""Real test images: scikit-image photos and Fashion-MNIST digits-of-clothing, as class folders
and as ImageNet-format shards written by the converter."""

import os

import pytest

from photos import PHOTOS, photo, write_jpeg


@pytest.fixture(scope="session")
def photo_folder(tmp_path_factory):
    """train/<synset>/<photo>.JPEG (3 per class) and validation/ (1 per class)."""
    root = tmp_path_factory.mktemp("photos")
    for split, pick in (("train", slice(0, 3)), ("validation", slice(0, 1))):
        for synset, names in PHOTOS.items():
            os.makedirs(root / split / synset)
            for name in names[pick]:
                write_jpeg(root / split / synset / f"{name}.JPEG", photo(name))
    return root


@pytest.fixture(scope="session")
def photo_shards(photo_folder, tmp_path_factory):
    from keras_classics.data import build_tfrecords

    out = tmp_path_factory.mktemp("shards")
    for split in ("train", "validation"):
        build_tfrecords.build(str(photo_folder / split), str(out), split, 2, verbose=False)
    return out


@pytest.fixture(scope="session")
def fashion_test():
    from keras_classics.data.sources import fashion_mnist

    return fashion_mnist.load_arrays("test")
