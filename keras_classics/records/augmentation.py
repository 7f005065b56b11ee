"""A paper's training augmentation as a record (no TensorFlow), and the table of named ones.

Each family module describes its paper's augmentation as an `Augmentation` and gives it to its
Family (keras_classics/models/_core.py), which registers it by name; ModelSpec.augmentation
names it. keras_classics/data/train_preprocessing.py holds the operations and reads these
records; `--augmentation NAME` and get_dataset(augmentation=) take any registered name.
"""

import dataclasses

WINDOWS = ("area", "scale", "eval")
STEPS = ("pca_lighting", "color_distortion", "pad_and_crop", "hsl_jitter", "color_jitter")


@dataclasses.dataclass(frozen=True)
class Augmentation:
    """A crop window sampled in the original image, a resize to the input size, an optional
    flip and the steps after the resize.

    Attributes:
      name: the registered name (`--augmentation`, ModelSpec.augmentation).
      paper: the paper and section it follows.
      window: "area" (a share `area` of the image at an aspect in `aspect`: Inception's),
        "scale" (the shorter side rescaled to S ~ U[`scale`] for a 224 crop, then a random
        square; the central square first where `central_square`), or "eval" (the evaluation
        crop).
      scale: "scale": the range of S, in pixels for a 224-pixel crop (the scales grow with the
        input size).
      central_square: "scale": take the rescaled image's central square first (AlexNet).
      area, aspect: "area": the window's share of the image and its aspect ratio range.
      flip: a random horizontal flip.
      after_resize: names of the steps after the resize, in order (STEPS).
      hsl: "hsl_jitter": the largest offsets of hue, saturation and lightness, in OpenCV's
        8-bit HLS units (hue 0-180, saturation and lightness 0-255), as MXNet's
        ImageRecordIter takes them (random_h, random_s, random_l).
    """

    name: str
    paper: str
    window: str
    scale: tuple = ()
    central_square: bool = False
    area: tuple = (0.08, 1.0)
    aspect: tuple = (3 / 4, 4 / 3)
    flip: bool = True
    after_resize: tuple = ()
    hsl: tuple = ()

    def __post_init__(self):
        if self.window not in WINDOWS:
            raise ValueError(f"window={self.window!r} is invalid; accepted: {WINDOWS}.")
        if (self.window == "scale") != bool(self.scale):
            raise ValueError(
                f"scale={self.scale!r} is invalid with window={self.window!r}; accepted: a "
                "(low, high) range with window='scale' only."
            )
        unknown = [s for s in self.after_resize if s not in STEPS]
        if unknown:
            raise ValueError(f"after_resize={unknown!r} is invalid; accepted: {STEPS}.")
        jitters = "hsl_jitter" in self.after_resize
        valid = len(self.hsl) == 3 and all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in self.hsl
        )
        if (jitters and not valid) or (self.hsl and not jitters):
            raise ValueError(
                f"hsl={self.hsl!r} is invalid with after_resize={self.after_resize!r}; accepted: "
                "three non-negative integers (hue, saturation, lightness) with 'hsl_jitter' only."
            )


_AUGMENTATIONS: dict = {}


def register_augmentation(augmentation):
    """Adds `augmentation` under its name; the same record again is a no-op (every row of a
    family registers its family's), another under a taken name an error."""
    taken = _AUGMENTATIONS.get(augmentation.name)
    if taken is not None and taken != augmentation:
        raise ValueError(f"augmentation name {augmentation.name!r} is already registered.")
    _AUGMENTATIONS[augmentation.name] = augmentation
    return augmentation


def augmentations():
    """{name: Augmentation} of every registered augmentation, in registration order."""
    return dict(_AUGMENTATIONS)
