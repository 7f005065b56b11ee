"""The conversion machinery every source shares: table rows, plans, all-or-nothing assignment.

Each family module registers its `Conversion` rows (`register_conversions`), one per upstream
model it can take weights from (torchvision, timm, keras.applications). A row names the source
model, our registry model with the builder options that give the
same architecture, the preprocessing the source's weights expect, and a *plan*: a function
model -> {our layer name: (Take, ...)}, one `Take` per Keras variable of the layer, in the
layer's variable order, saying which source arrays it is computed from and how.

`assign` computes every variable of a built model from the plan and a checkpoint read into a
dict (weights/checkpoint.py), checks keys and shapes, and only then assigns: a checkpoint that
does not fit raises a ValueError listing the first offending keys and leaves nothing
half-loaded.
"""

import dataclasses
import difflib
import json
import os
from collections.abc import Callable, Mapping

import h5py
import numpy as np

from keras_classics.records.input_config import InputConfig
from keras_classics.records.registry import get_model

# The upstream libraries, in the order the default weight card breaks ties in.
SOURCES = ("torchvision", "timm", "keras.applications")
# How many offending keys an error message lists per kind.
SHOWN = 8
# Root attribute of a converted .weights.h5 file holding `WeightsInfo` as JSON.
INFO_ATTRIBUTE = "keras_classics_conversion"
# Format 2 records the source's InputConfig as one "input" object; format 1 (flat
# preprocessing / input_size / crop_ratio fields) is still read.
INFO_FORMAT = 2
READABLE_FORMATS = (1, 2)


@dataclasses.dataclass(frozen=True)
class Take:
    """One Keras variable computed from source arrays: `fn(*arrays)` over `keys`."""

    keys: tuple
    fn: Callable = None  # None: the single source array as it is

    def __call__(self, state):
        arrays = [state[k] for k in self.keys]
        return arrays[0] if self.fn is None else self.fn(*arrays)


@dataclasses.dataclass(frozen=True)
class Conversion:
    """One source model: how its checkpoint becomes weights of one of our builders.

    Attributes:
      source: the library ("torchvision", "timm", "keras.applications").
      name: the model's name in that library ("resnext50_32x4d", "ResNet50").
      model: our registry name of the same architecture.
      plan: model -> {layer name: tuple of Take}, covering every layer with weights.
      input: how the source's weights want their input prepared (InputConfig: the
        `preprocess_input` mode they were trained with, the source's eval resolution,
        centre-crop fraction and resize interpolation).
      builder_kwargs: options that make our builder the source's variant; a caller may not
        override them.
      head: source key prefixes of the classifier, unused (not an error) when the model is
        built with include_top=False.
      aux: source key prefixes of the auxiliary classifiers, unused (not an error) when the
        model is built without them (aux_logits=False).
      ignored: source key suffixes that hold no weights (torch's num_batches_tracked).
      rename: state -> state, applied before the plan reads it (keras.applications' Inception
        layers, auto-named by Keras, are renamed by creation order), or None.
    """

    source: str
    name: str
    model: str
    plan: Callable
    input: InputConfig
    builder_kwargs: Mapping = dataclasses.field(default_factory=dict)
    head: tuple = ()
    aux: tuple = ()
    ignored: tuple = ()
    rename: Callable = None

    def describe(self):
        options = "".join(f", {k}={v!r}" for k, v in self.builder_kwargs.items())
        return f"{self.source} {self.name!r} (keras_classics {self.model!r}{options})"


_ROWS: dict = {}  # {source: {source model name: Conversion}}, in registration order


def register_conversions(*rows):
    """Adds `rows` to their sources' tables; a second row of a source's name is an error."""
    for row in rows:
        if row.source not in SOURCES:
            raise ValueError(f"source={row.source!r} is invalid; accepted: {SOURCES}.")
        table = _ROWS.setdefault(row.source, {})
        if row.name in table:
            raise ValueError(f"{row.source} model {row.name!r} has two conversion rows.")
        table[row.name] = row
    return rows


def conversions(source):
    """{source model name: Conversion} of `source`, in registration order."""
    if source not in SOURCES:
        raise ValueError(f"source={source!r} is invalid; accepted: {SOURCES}.")
    return dict(_ROWS.get(source, {}))


def find(source, name):
    """The row of `name` in `source`'s table; an unknown name lists the accepted ones.

    A pretrained tag ("resnext101_32x4d.gluon_in1k", timm's "arch.tag") picks the tag's row
    where the table has one (a tag whose preprocessing differs), else the architecture's.
    """
    rows = conversions(source)
    if isinstance(name, str) and name not in rows and "." in name:
        name = name.split(".")[0]
    if name not in rows:
        close = difflib.get_close_matches(str(name), list(rows), n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ValueError(
            f"name={name!r} is not a convertible {source} model.{hint} Accepted: {', '.join(rows)}."
        )
    return rows[name]


def builder_kwargs(row, kwargs):
    """The row's options plus the caller's; the caller may not change the architecture."""
    if "weights" in kwargs:
        raise TypeError("weights= is not accepted: the weights come from `checkpoint`.")
    for key, value in kwargs.items():
        if key in row.builder_kwargs and row.builder_kwargs[key] != value:
            raise ValueError(
                f"{key}={value!r} is invalid for {row.describe()}: its weights "
                f"need {key}={row.builder_kwargs[key]!r}."
            )
    return {**row.builder_kwargs, **kwargs}


def assign(row, model, state):
    """Sets every weighted layer of `model` (built with `row`'s options) from `state`, the
    checkpoint as {key: array}; validated first, so a misfit loads nothing."""
    values = planned_values(row, model, state)
    for layer_name, arrays in values.items():
        model.get_layer(layer_name).set_weights(arrays)
    return model


def planned_values(row, model, state):
    """{layer name: [arrays]} for every weighted layer of `model`, validated.

    Raises ValueError naming the first missing, unexpected and mis-shaped keys.
    """
    plan = row.plan(model)
    weighted = [layer for layer in model.layers if layer.weights]
    unmapped = [layer.name for layer in weighted if layer.name not in plan]
    if unmapped:
        raise ValueError(
            f"The model built for {row.describe()} has layers that {row.source}'s "
            f"{row.name!r} has no weights for: {_first(unmapped)}. Builder options that change "
            "the architecture (block_form, shortcut, variant ...) do not fit these weights."
        )
    state = {k: v for k, v in state.items() if not k.endswith(row.ignored)}
    if row.rename:
        state = row.rename(state)
    expected = list(dict.fromkeys(k for takes in plan.values() for t in takes for k in t.keys))
    missing = [k for k in expected if k not in state]
    planned = set(expected)
    # A classifier's keys are fine when the model has no such classifier (include_top=False,
    # aux_logits=False); the prefixes of those the plan does not read.
    unused = tuple(
        prefix
        for group in (row.head, row.aux)
        if not any(k.startswith(group) for k in expected)
        for prefix in group
    )
    unexpected = [k for k in state if k not in planned and not k.startswith(unused)]
    if missing or unexpected:
        lines = [f"The checkpoint does not fit {row.describe()}:"]
        if missing:
            lines.append(f"  {len(missing)} missing keys: {_first(missing)}")
        if unexpected:
            lines.append(f"  {len(unexpected)} unexpected keys: {_first(unexpected)}")
        lines.append("  Is it a checkpoint of this model? Nothing was loaded.")
        raise ValueError("\n".join(lines))
    values, wrong = {}, []
    for layer in weighted:
        takes = plan[layer.name]
        variables = layer.weights
        if len(takes) != len(variables):  # a plan bug rather than a checkpoint problem
            raise ValueError(
                f"The conversion plan of {row.describe()} gives {len(takes)} "
                f"arrays for layer {layer.name!r}, which has {len(variables)}."
            )
        arrays = []
        for take, variable in zip(takes, variables):
            sources = ", ".join(f"{k} {tuple(state[k].shape)}" for k in take.keys)
            target = f"{layer.name}/{variable.name} {tuple(variable.shape)}"
            try:
                array = np.asarray(take(state), dtype=np.float32)
            except ValueError:  # a reshape that the source shape does not allow
                wrong.append(f"{sources} -> {target}")
                continue
            if array.shape != tuple(variable.shape):
                wrong.append(f"{sources} -> {target}: got {array.shape}")
            arrays.append(array)
        values[layer.name] = arrays
    if wrong:
        raise ValueError(
            f"The checkpoint does not fit {row.describe()}: {len(wrong)} arrays "
            f"have the wrong shape: {_first(wrong, sep='; ')}. Is it a "
            "checkpoint of this model with these builder options (classes, "
            "include_top)? Nothing was loaded."
        )
    return values


def _first(items, sep=", "):
    shown = sep.join(items[:SHOWN])
    return shown + (f"{sep}... ({len(items) - SHOWN} more)" if len(items) > SHOWN else "")


# --- the weights file and what it records -----------------------------------------------------


@dataclasses.dataclass(frozen=True)
class WeightsInfo:
    """What a converted weights file records: how to build its model and prepare its input.

    Attributes:
      model: our registry name; build with `get_model(model, **builder_kwargs, weights=path)`.
      builder_kwargs: the builder options the weights were converted for (variant,
        downsample_at, include_top, classes ...), JSON values only.
      input: the InputConfig the weights expect (the source's preprocessing mode, eval
        resolution, crop and interpolation): what eval_preprocess, the data pipeline and
        the export take in place of the registry spec's (keras.applications' ResNet weights
        want "caffe" where our ResNet50 spec says "torch").
      source, source_model: where the weights came from ("torchvision", "resnet50").
    """

    model: str
    builder_kwargs: dict
    input: InputConfig
    source: str
    source_model: str
    format: int = INFO_FORMAT

    def build(self, weights=None, **kwargs):
        """Our model with these builder options (and `kwargs`), loading `weights` if given."""
        return get_model(self.model, **{**self.builder_kwargs, **kwargs}, weights=weights)

    def to_json(self):
        return json.dumps({**dataclasses.asdict(self), "input": self.input.to_dict()})

    @classmethod
    def from_json(cls, text, path):
        fields = json.loads(text)
        if fields.get("format") not in READABLE_FORMATS:
            raise ValueError(
                f"weights={path!r} records conversion info format "
                f"{fields.get('format')!r}; this keras_classics reads formats "
                f"{READABLE_FORMATS}."
            )
        if fields["format"] == 1:
            fields["input"] = dict(
                mode=fields.pop("preprocessing"),
                size=fields.pop("input_size"),
                crop_ratio=fields.pop("crop_ratio"),
            )
        return cls(**{**fields, "input": InputConfig(**fields["input"]), "format": INFO_FORMAT})


def check_output(path):
    path = os.fspath(path)
    if not path.endswith(".weights.h5"):
        raise ValueError(
            f"output={path!r} is invalid; accepted: a file name ending in "
            "'.weights.h5' (what builders' weights= argument loads)."
        )
    return path


def save_weights(model, row, path, kwargs):
    """Writes `model`'s weights to `path` (.weights.h5) with a `WeightsInfo` root attribute."""
    path = check_output(path)
    recorded = {**row.builder_kwargs, **kwargs}
    not_json = sorted(k for k, v in recorded.items() if not _is_json(v))
    if not_json:
        raise ValueError(
            f"builder options {not_json} cannot be recorded in a weights file; "
            "accepted: JSON values (str, int, float, bool, None, lists)."
        )
    info = WeightsInfo(
        model=row.model,
        builder_kwargs=recorded,
        input=row.input,
        source=row.source,
        source_model=row.name,
    )
    model.save_weights(path)
    with h5py.File(path, "a") as f:
        f.attrs[INFO_ATTRIBUTE] = info.to_json()
    return info


def _is_json(value):
    try:
        json.dumps(value)
        return True
    except TypeError:
        return False


def read_weights_info(path):
    """The `WeightsInfo` a converted weights file records, or None for any other weights file.

    Its `input` gives eval_preprocess, get_dataset and export the preprocessing the weights
    were trained with; `python -m keras_classics.export --weights FILE` reads it.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ValueError(f"weights={path!r} does not exist; accepted: the path to a weights file.")
    with h5py.File(path, "r") as f:
        text = f.attrs.get(INFO_ATTRIBUTE)
    if text is None:
        return None
    return WeightsInfo.from_json(text, path)
