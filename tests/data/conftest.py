"""Real test images: scikit-image photos and Fashion-MNIST digits-of-clothing, as class folders
and as ImageNet-format shards written by the converter."""

import os

import numpy as np
import pytest
import tensorflow as tf

PHOTOS = {"n01440764": ("astronaut", "chelsea", "coffee"),
          "n01443537": ("rocket", "immunohistochemistry", "colorwheel")}


def photo(name, size=(150, 200)):
    import skimage.data
    image = getattr(skimage.data, name)()[..., :3]
    return tf.image.resize(image, size).numpy().round().clip(0, 255).astype(np.uint8)


def write_jpeg(path, image, quality=90):
    with open(path, "wb") as f:
        f.write(tf.io.encode_jpeg(image, quality=quality).numpy())


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
