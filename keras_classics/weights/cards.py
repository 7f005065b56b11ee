"""Weight cards: one upstream set of pretrained weights each, and the choice among them.

A card names an upstream file, its hash, the conversion row that turns it into our weights
(with the builder options they need) and what upstream published about it. Each family module
registers its cards (`register_cards`, built with the source constructors below from that
source's published figures: torchvision's Weights enums, timm's pretrained_cfg and results
CSV, keras.applications' source and keras.io's table; tests/pretrained/test_cards.py checks
them against those libraries where they are installed).

The default card of a model ("imagenet") is the most accurate whose licence allows commercial
use (default_card). A *group* of cards shares one upstream tag that the builder's options choose
among, as keras.applications' weights="imagenet" picks its MobileNets' file by alpha, input
rows and minimalistic: the group's card of that tag is its default, the others are reached by
the builder's options (resolve) or by their own tags.
"""

import dataclasses
import fnmatch
import functools
from collections.abc import Mapping
from typing import Optional

from keras_classics.records.input_config import InputConfig
from keras_classics.records.registry import get_spec, list_models
from keras_classics.weights.conversion import SOURCES, find

DEFAULT = "imagenet"
# Ties of the default rule go to the earlier source.
SOURCE_ORDER = {source: i for i, source in enumerate(SOURCES)}
TORCHVISION_URL = "https://download.pytorch.org/models/"
TORCHVISION_RECIPES = "https://github.com/pytorch/vision/"
# torchvision states no licence for its weights ("may have their own licenses or terms and
# conditions derived from the dataset used for training"); its code is BSD-3-Clause.
TORCHVISION_LICENSE = "unstated (torchvision: terms of the training data; code BSD-3-Clause)"
# timm's files are the hub's model.safetensors of hf_hub_id "timm/<tag>"; timm publishes no
# hash for them.
TIMM_URL = "https://huggingface.co/timm/{tag}/resolve/main/model.safetensors"
KERAS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/"
KERAS_RECIPE = "https://keras.io/api/applications/"

CARDS: dict = {}  # {card name: WeightCard}, in registration order


@dataclasses.dataclass(frozen=True)
class WeightCard:
    """One set of upstream weights for one of our models.

    Attributes:
      model: our registry name ("resnet50").
      source: "torchvision", "timm" or "keras.applications".
      tag: the upstream's name of the weights: torchvision's Weights member ("IMAGENET1K_V2"),
        timm's pretrained name ("inception_v4.tf_in1k"), keras.applications' "imagenet".
      conversion: the name of its row in the source's conversion table
        (weights/conversion.py; its builder options and name map).
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
      options: builder options the file needs beyond its conversion row's (keras.applications'
        MobileNet widths: one row, one file per alpha); `builder_kwargs` is both.
      group: the upstream tag under which the builder's options and input size choose this
        card among the model's cards of the same source and group (keras.applications'
        "imagenet" of the MobileNets); "" for a card that only its own tag names. The group's
        card whose `tag` is the group is its default (the upstream's default options).
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
    options: Mapping = dataclasses.field(default_factory=dict)
    group: str = ""

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
        """The conversion row (its family module's) that turns the file into our weights."""
        return find(self.source, self.conversion)

    @property
    def builder_kwargs(self):
        """The builder options these weights need (downsample_at, variant, bn_scale ...)."""
        return {**self.row.builder_kwargs, **self.options}

    @property
    def is_variant(self):
        """A group's card other than its default: named by its own tag or chosen by options."""
        return bool(self.group) and self.tag != self.group

    @property
    def paper(self):
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


def register_cards(*cards):
    """Adds `cards` to the table; a second card of a name is an error."""
    for card in cards:
        if card.name in CARDS:
            raise ValueError(f"Weight card {card.name!r} is in the table twice.")
        CARDS[card.name] = card
    return cards


def torchvision_card(model, tag, file, top1, top5, params, gmacs, size_mb, resize, crop, recipe):
    """A card of torchvision's Weights `tag` of `model` (its Weights enum's meta, file name
    and preset transform: bilinear resize of the shorter side to `resize`, centre `crop`)."""
    row = find("torchvision", model)
    return WeightCard(
        model=model,
        source="torchvision",
        tag=tag,
        conversion=model,
        url=TORCHVISION_URL + file,
        # torch.hub's check: the file's sha256 starts with the hex digits after the last "-".
        hashes={"sha256": file.rsplit("-", 1)[1].split(".")[0]},
        license=TORCHVISION_LICENSE,
        top1=top1,
        top5=top5,
        input=row.input.replace(size=crop, crop_ratio=crop / resize),
        params=params,
        gmacs=gmacs,
        size_mb=size_mb,
        recipe=TORCHVISION_RECIPES + recipe,
    )


def timm_card(tag, top1, top5, size, crop_pct, interpolation, license, params):  # noqa: A002
    """A card of timm's pretrained `tag` ("arch.tag": its pretrained_cfg and results CSV);
    `params` our builder's trainable count with the row's options (timm's CSV rounds)."""
    row = find("timm", tag)
    return WeightCard(
        model=row.model,
        source="timm",
        tag=tag,
        conversion=tag,
        url=TIMM_URL.format(tag=tag),
        hashes={},
        license=license,
        top1=top1,
        top5=top5,
        input=row.input.replace(size=size, crop_ratio=crop_pct, interpolation=interpolation),
        params=params,
        recipe=f"https://huggingface.co/timm/{tag}",
    )


def keras_card(
    name,
    file,
    md5,
    top1,
    top5,
    size_mb,
    license,  # noqa: A002
    params,
    *,
    tag=DEFAULT,
    options=None,
    size=None,
    group="",
):
    """A card of keras.applications' `name` weights (its source's URL and md5, keras.io's
    accuracy); `params` our builder's trainable count with the row's options and `options`.
    A file of other builder options or input rows (its MobileNets' alpha, rows, minimalistic)
    has its own `tag`, `options`, `size` (the rows it was trained at) and the `group` its
    builder's weights="imagenet" chooses it from."""
    row = find("keras.applications", name)
    return WeightCard(
        model=row.model,
        source="keras.applications",
        tag=tag,
        conversion=name,
        url=KERAS_URL + file,
        hashes={"md5": md5},
        license=license,
        top1=top1,
        top5=top5,
        input=row.input if size is None else row.input.replace(size=size),
        params=params,
        size_mb=size_mb,
        recipe=KERAS_RECIPE,
        options=dict(options or {}),
        group=group,
    )


# --- choosing a card ---------------------------------------------------------------------


def is_card_name(weights):
    """True for what names upstream weights rather than a file: "imagenet", a source
    ("keras.applications") or "SOURCE:TAG"."""
    return isinstance(weights, str) and (
        weights == DEFAULT or weights in SOURCES or weights.split(":", 1)[0] in SOURCES
    )


def list_weights(model=None):
    """The cards of `model` (a registry name, wildcards allowed: "resnet*"), or all; the
    default card of each model first."""
    names = sorted({c.model for c in CARDS.values()}, key=_registry_order)
    if model is not None:
        names = [n for n in names if fnmatch.fnmatchcase(n, model)]
    out = []
    for name in names:
        cards = [c for c in CARDS.values() if c.model == name]
        first = default_card(name)
        out += [first] + [c for c in cards if c is not first]
    return out


def _registry_order(name):
    order = list_models()
    return order.index(name) if name in order else len(order)


def default_card(model):
    """The card "imagenet" means for `model`: the highest published top-1 among the cards
    whose licence allows commercial use (ties: torchvision, timm, keras.applications); a
    group's variants (other widths or sizes) compete only through their group's default."""
    cards = [c for c in CARDS.values() if c.model == model and not c.is_variant]
    if not cards:
        raise ValueError(
            f"weights={DEFAULT!r} is not available for model {model!r}; accepted: None or a "
            f"weights file. Models with pretrained weights: {', '.join(pretrained_models())}."
        )
    usable = [c for c in cards if "nc" not in c.license.lower().split("-")] or cards
    return max(usable, key=lambda c: (c.top1, -SOURCE_ORDER[c.source]))


def pretrained_models():
    return sorted({c.model for c in CARDS.values()}, key=_registry_order)


def resolve(model, weights, options=None, size=None):
    """The card `weights` names for registry model `model` ("imagenet", "SOURCE" or
    "SOURCE:TAG"); where that is a group's default, the group's card that the builder
    `options` passed ({name: value}) and the input `size` (its rows; None: not given) choose.
    "imagenet" with options other than a group default's is that group's."""
    if weights == DEFAULT:
        # Options that only a group publishes (MobileNet at alpha 0.75: keras.applications'
        # files, not timm's default) choose that group, as keras.applications' "imagenet" does.
        for card in CARDS.values():
            if card.model == model and card.group and not card.is_variant:
                if any(k in (options or {}) and options[k] != v for k, v in card.options.items()):
                    return _choose(card, weights, options, size)
        return _choose(default_card(model), weights, options, size)
    cards = [c for c in CARDS.values() if c.model == model]
    if weights in SOURCES:
        matching = [c for c in cards if c.source == weights and not c.is_variant]
        if matching:
            return _choose(max(matching, key=lambda c: c.top1), weights, options, size)
    else:
        for card in cards:
            if card.weights_tag == weights:
                return _choose(card, weights, options, size)
    accepted = ", ".join(repr(t) for t in [DEFAULT, *(c.weights_tag for c in cards)])
    raise ValueError(
        f"weights={weights!r} is not available for model {model!r}; accepted: None, a weights "
        f"file, or {accepted if cards else 'nothing pretrained (no card)'}."
    )


def _choose(card, weights, options, size):
    """`card`, or where it is a group's default the group's card of the passed `options`
    (the others the default's) trained at `size` rows. As keras.applications, a size that
    no file of the group has (or None) takes the default's size, and options or a size
    with no published file are a ValueError listing what is published."""
    if not card.group or card.is_variant:
        return card
    group = [
        c
        for c in CARDS.values()
        if (c.model, c.source, c.group) == (card.model, card.source, card.group)
    ]
    wanted = {k: (options or {}).get(k, v) for k, v in card.options.items()}
    if size not in {c.input.size for c in group}:
        size = card.input.size
    for candidate in group:
        if candidate.options == wanted and candidate.input.size == size:
            return candidate
    published = {}
    for c in group:
        key = ", ".join(f"{k}={v!r}" for k, v in c.options.items())
        published.setdefault(key, []).append(str(c.input.size))
    asked = ", ".join(f"{k}={v!r}" for k, v in wanted.items())
    raise ValueError(
        f"weights={weights!r} with {asked} and input size {size} is not available for model "
        f"{card.model!r}: {card.source} published no such file. Accepted: "
        + "; ".join(f"{key} at {'/'.join(sizes)} px" for key, sizes in published.items())
        + " (any other input size loads the default size's file)."
    )


def get_weights(name):
    """The card named "MODEL" (its default), "MODEL:SOURCE[:TAG]" or "SOURCE:TAG" when that
    tag belongs to one model only."""
    if not isinstance(name, str):
        raise ValueError(f"name={name!r} is invalid; accepted: a card name such as 'resnet50'.")
    if name in CARDS:
        return CARDS[name]
    model, _, tag = name.partition(":")
    if model in SOURCES:
        found = [c for c in CARDS.values() if c.weights_tag == name]
        if len(found) == 1:
            return found[0]
        if found:
            raise ValueError(
                f"name={name!r} names the weights of {len(found)} models "
                f"({', '.join(c.model for c in found)}); accepted: MODEL:{name}."
            )
    elif model in pretrained_models():
        return resolve(model, tag or DEFAULT)
    raise ValueError(
        f"name={name!r} is not a weight card; accepted: a model with pretrained weights "
        f"({', '.join(pretrained_models())}), optionally :SOURCE[:TAG], or a full card name "
        "(`keras-classics weights list`)."
    )


# --- builder options ------------------------------------------------------------------------


def builder_options(card, passed):
    """The caller's options with the card's added; a conflicting value is a ValueError."""
    for key, needed in card.builder_kwargs.items():
        if key in passed and passed[key] != needed:
            raise ValueError(
                f"{key}={passed[key]!r} conflicts with weights={card.weights_tag!r} "
                f"({card.name}), whose weights need {key}={needed!r}; pass {key}={needed!r} "
                "or leave it out, or choose other weights."
            )
    return {**card.builder_kwargs, **passed}
