"""Real test images: scikit-image photos, encoded as the tests need them."""

import numpy as np
import tensorflow as tf

PHOTOS = {
    "n01440764": ("astronaut", "chelsea", "coffee"),
    "n01443537": ("rocket", "immunohistochemistry", "colorwheel"),
}


def photo(name, size=(150, 200)):
    import skimage.data

    image = getattr(skimage.data, name)()[..., :3]
    return tf.image.resize(image, size).numpy().round().clip(0, 255).astype(np.uint8)


def write_jpeg(path, image, quality=90):
    with open(path, "wb") as f:
        f.write(tf.io.encode_jpeg(image, quality=quality).numpy())
