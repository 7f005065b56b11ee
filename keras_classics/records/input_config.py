"""How a model's input is prepared: the `InputConfig` record and the normalisation modes.

No TensorFlow here: the record is read by the registry, the weight cards and the conversion
rows below Keras; the arithmetic that applies a mode is keras_classics/layers/normalization.py.

Inputs are RGB images with values in [0, 255], channels last. One `InputConfig` (mode, size,
centre-crop ratio, interpolation) says how a model's input is made: the registry spec holds
the paper's, a converted weights file records its source's, and the data pipeline's
evaluation preprocessing, training and the export all read it. This module is also the
single place the mean/std constants live.
"""

import dataclasses

# mode -> (channel order, scale applied first, mean subtracted after scaling, std divided)
MODES = {
    # torchvision: [0, 1] then ImageNet mean/std (RGB).
    "torch": ("rgb", 1 / 255.0, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
    # Caffe / keras.applications VGG & ResNet: BGR, mean pixel subtracted, no scaling.
    "caffe": ("bgr", 1.0, (103.939, 116.779, 123.68), (1.0, 1.0, 1.0)),
    # TF-slim Inception: [-1, 1].
    "tf": ("rgb", 1 / 127.5, (1.0, 1.0, 1.0), (1.0, 1.0, 1.0)),
    # MXNet Dual Path Networks release (cypw/DPNs README, "Normalization"): RGB mean
    # [124, 117, 104] subtracted, then multiplied by 0.0167 (timm's IMAGENET_DPN_MEAN/STD).
    "dpn": ("rgb", 1.0, (124.0, 117.0, 104.0), (1 / 0.0167,) * 3),
    # Pixels as they are (for models trained on raw [0, 255] inputs).
    "raw": ("rgb", 1.0, (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)),
}


# Resize methods of the evaluation crop: tf.image.resize names. torchvision's and the papers'
# pipelines resize bilinearly; timm's weights mostly record bicubic (their pretrained cfgs).
INTERPOLATIONS = ("bilinear", "bicubic")


@dataclasses.dataclass(frozen=True)
class InputConfig:
    """How a model's input is prepared, the record every reader shares.

    Attributes:
      mode: the `preprocess_input` mode ("torch", "caffe", "tf", "dpn", "raw").
      size: the input side (height = width) the model is evaluated at.
      crop_ratio: the evaluation centre crop: the central crop_ratio x shorter side, resized
        to size (= resize the shorter side to size / crop_ratio, crop size x size); 1.0 is
        the whole frame.
      interpolation: the resize method of that crop, one of INTERPOLATIONS.
    """

    mode: str
    size: int
    crop_ratio: float = 0.875
    interpolation: str = "bilinear"

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"mode={self.mode!r} is invalid; accepted: {tuple(MODES)}.")
        if isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < 1:
            raise ValueError(f"size={self.size!r} is invalid; accepted: a positive integer.")
        if (
            isinstance(self.crop_ratio, bool)
            or not isinstance(self.crop_ratio, (int, float))
            or not 0 < self.crop_ratio <= 1
        ):
            raise ValueError(
                f"crop_ratio={self.crop_ratio!r} is invalid; accepted: a number in (0, 1]."
            )
        if self.interpolation not in INTERPOLATIONS:
            raise ValueError(
                f"interpolation={self.interpolation!r} is invalid; accepted: {INTERPOLATIONS}."
            )

    @property
    def mean(self):
        """The per-channel RGB mean on [0, 1] pixels this mode implies (timm's convention:
        preprocess_input(x) == (x / 255 - mean) / std, the BGR order of "caffe" aside)."""
        return _mean_std(self.mode)[0]

    @property
    def std(self):
        """The per-channel RGB standard deviation on [0, 1] pixels (see `mean`)."""
        return _mean_std(self.mode)[1]

    def replace(self, **changes):
        """A copy with `changes` (size, crop_ratio ...), checked like a new record."""
        return dataclasses.replace(self, **changes)

    def to_dict(self):
        return dataclasses.asdict(self)


def input_config(config, image_size=None, crop_ratio=None):
    """The InputConfig of `config` (an InputConfig, or a ModelSpec's `input`) with the given
    size and crop in place of its own (checked as the record checks them)."""
    config = getattr(config, "input", config)
    if not isinstance(config, InputConfig):
        raise TypeError(f"config={config!r} is invalid; accepted: an InputConfig or a ModelSpec.")
    changes = {k: v for k, v in (("size", image_size), ("crop_ratio", crop_ratio)) if v is not None}
    return config.replace(**changes) if changes else config


def _mean_std(mode):
    # (x * scale - mean) / std on [0, 255] pixels = (x / 255 - m) / s with m = mean / (255 *
    # scale) and s = std / (255 * scale); "caffe" is BGR in MODES, given here in RGB order.
    order, scale, mean, std = MODES[mode]
    rgb = slice(None, None, -1) if order == "bgr" else slice(None)
    m = tuple(v / (255 * scale) for v in mean[rgb])
    s = tuple(v / (255 * scale) for v in std[rgb])
    return m, s
