"""The weight card: one upstream set of pretrained weights and everything a user asks of it."""

import dataclasses
import functools
from typing import Optional

from keras_classics.preprocessing import InputConfig

SOURCES = ("torchvision", "timm", "keras.applications")
# Ties of the default rule (keras_classics/pretrained/cards.py) go to the earlier source.
SOURCE_ORDER = {source: i for i, source in enumerate(SOURCES)}


@dataclasses.dataclass(frozen=True)
class WeightCard:
    """One set of upstream weights for one of our models.

    Attributes:
      model: our registry name ("resnet50").
      source: "torchvision", "timm" or "keras.applications".
      tag: the upstream's name of the weights: torchvision's Weights member ("IMAGENET1K_V2"),
        timm's pretrained name ("inception_v4.tf_in1k"), keras.applications' "imagenet".
      conversion: the name of its row in the source's conversion table
        (keras_classics/convert; its builder options and name map).
      url: the upstream file.
      hashes: {algorithm: hex digest or prefix} the upstream publishes (torchvision's sha256
        prefix in the file name, keras.applications' md5 in its source); empty where it
        publishes none (timm's hub files: the first download's sha256 is recorded).
      license: of the upstream weights.
      top1, top5: the upstream's published ImageNet-1k validation accuracy (%), measured
        with `input`.
      input: the evaluation transform those figures were measured with and the weights
        expect (preprocessing mode, size, centre crop, interpolation).
      params: trainable parameters, as the upstream publishes them (our builder's count).
      gmacs: multiply-adds (1e9) at `input.size` as the upstream publishes them
        (torchvision's "GFLOPS" count multiply-adds); None where it publishes none
        (`keras-classics summary MODEL` counts ours).
      size_mb: the file's size in MB (1e6 bytes) where published.
      recipe: the upstream's link to the training recipe or the weights' origin.
    """

    model: str
    source: str
    tag: str
    conversion: str
    url: str
    hashes: dict
    license: str
    top1: float
    top5: float
    input: InputConfig
    params: int
    gmacs: Optional[float] = None
    size_mb: Optional[float] = None
    recipe: str = ""

    @property
    def name(self):
        """The card's full name, MODEL:SOURCE:TAG ("resnet50:torchvision:IMAGENET1K_V2")."""
        return f"{self.model}:{self.source}:{self.tag}"

    @property
    def weights_tag(self):
        """What a builder's `weights=` takes for this card: "SOURCE:TAG"."""
        return f"{self.source}:{self.tag}"

    @functools.cached_property
    def row(self):
        """The conversion row (keras_classics/convert) that turns the file into our weights."""
        from keras_classics.convert import get_conversion

        return get_conversion(self.source, self.conversion)

    @property
    def builder_kwargs(self):
        """The builder options these weights need (downsample_at, variant, bn_scale ...)."""
        return dict(self.row.builder_kwargs)

    @property
    def paper(self):
        from keras_classics.registry import get_spec

        return get_spec(self.model).paper

    @property
    def file_name(self):
        """The converted file's name in the cache's folder of the model."""
        safe = self.tag.replace("/", "_")
        return f"{self.source}-{safe}.weights.h5"

    def describe(self):
        """A few lines for `summary` and `keras-classics weights list --long`."""
        options = ", ".join(f"{k}={v!r}" for k, v in self.builder_kwargs.items()) or "none"
        transform = (
            f"{self.input.size}px, crop {self.input.crop_ratio:.4g}, "
            f"{self.input.interpolation}, {self.input.mode} preprocessing"
        )
        return "\n".join(
            [
                f"weights: {self.name}",
                f"  top-1 {self.top1:.3f}%, top-5 {self.top5:.3f}% ({self.source}, {transform})",
                f"  builder options: {options}",
                f"  file: {self.url} ({self.license})",
            ]
        )

    def to_dict(self):
        fields = dataclasses.asdict(self)
        fields["input"] = self.input.to_dict()
        return {"name": self.name, **fields, "builder_kwargs": self.builder_kwargs}
