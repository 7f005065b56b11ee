"""Fixtures of the export tests: real photos (helpers live in export_helpers.py)."""

import pytest
import skimage.data
import tensorflow as tf

from export_helpers import PHOTOS


@pytest.fixture(scope="session")
def photos():
    """{name: uint8 [H, W, 3]} of real colour photos, none square."""
    return {n: getattr(skimage.data, n)() for n in PHOTOS}


@pytest.fixture(scope="session")
def encoded(photos):
    """[(format, bytes)]: each photo as JPEG, and one as PNG."""
    items = [("jpeg", tf.io.encode_jpeg(p, quality=90).numpy()) for p in photos.values()]
    items.append(("png", tf.io.encode_png(photos["coffee"]).numpy()))
    return items
