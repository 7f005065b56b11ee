"""`keras-classics weights verify`: each card's top-1 on scikit-image's sample photos.

For machines with internet (or a mirror): downloads each card's weights, prepares each photo
with the card's evaluation transform and checks that the top-1 class is one of the photo's
ImageNet classes. Needs scikit-image (the photos ship with it).
"""

import keras
import numpy as np

from keras_classics.data import eval_preprocess
from keras_classics.models import get_model

# photo (a skimage.data function) -> the ImageNet-1k class indices that are right for it
# (keras_classics/resources/imagenet_class_index.json).
PHOTOS = {
    "chelsea": (281, 282, 285),  # a tabby cat: tabby, tiger cat, Egyptian cat
    "coffee": (504, 967, 968),  # a cup of coffee: coffee mug, espresso, cup
    "rocket": (657, 744, 812),  # a launch: missile, projectile, space shuttle
}


def photo(name):
    """The RGB uint8 photo `name` of skimage.data."""
    try:
        import skimage.data
    except ImportError as err:
        raise ImportError(
            "`keras-classics weights verify` needs scikit-image for its sample photos: "
            "`pip install scikit-image`."
        ) from err
    return np.asarray(getattr(skimage.data, name)())[..., :3]


def top1(model, card, images):
    """{photo name: top-1 class index} of `model` (built with `card`'s weights)."""

    batch = np.stack([np.asarray(eval_preprocess(images[n], card.input)) for n in PHOTOS])
    predictions = np.asarray(model.predict(batch, verbose=0))
    return dict(zip(PHOTOS, (int(i) for i in predictions.argmax(-1))))


def verify(cards):
    """Rows (card name, {photo: (top-1 class, right?)}, all right?) for `cards`, each built
    by the registry with weights=the card's tag."""

    images = {name: photo(name) for name in PHOTOS}
    rows = []
    for card in cards:
        model = get_model(card.model, weights=card.weights_tag)
        found = top1(model, card, images)
        marks = {n: (found[n], found[n] in PHOTOS[n]) for n in PHOTOS}
        rows.append((card.name, marks, all(ok for _, ok in marks.values())))
        keras.backend.clear_session()
    return rows
