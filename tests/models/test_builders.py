"""The builder core's contract, over the registry: each public builder is one greppable
assignment in its family module, exported by the package, documented with the standard
arguments and its family's options, and its spec's input record and sizes are the ones the
builder uses."""

import importlib
import inspect
import re

import pytest

import keras_classics
from keras_classics.models._core import STANDARD_ARGS
from registry_params import ALL_MODELS


@pytest.mark.parametrize("name", ALL_MODELS)
def test_builder_is_one_assignment_in_its_family_module(name):
    builder = keras_classics.get_spec(name).builder
    module = importlib.import_module(builder.__module__)
    assert module.__name__.startswith("keras_classics.models.")
    assert getattr(module, builder.__name__) is builder
    assert getattr(keras_classics, builder.__name__) is builder
    source = inspect.getsource(module)
    assert len(re.findall(rf"^{builder.__name__} = ", source, re.M)) == 1


@pytest.mark.parametrize("name", ALL_MODELS)
def test_docstring_lists_the_standard_arguments_and_the_options(name):
    spec = keras_classics.get_spec(name)
    doc = inspect.getdoc(spec.builder)
    parameters = inspect.signature(spec.builder).parameters
    assert list(parameters)[: len(STANDARD_ARGS)] == list(STANDARD_ARGS)
    options = list(parameters)[len(STANDARD_ARGS) :]
    assert all(p.kind is p.KEYWORD_ONLY for n, p in parameters.items() if n in options)
    args = doc.split("Args:\n", 1)[1].split("\n\n", 1)[0]
    assert re.findall(r"^  (\w+):", args, re.M) == list(STANDARD_ARGS)
    assert f"default ({spec.input.size}, {spec.input.size}, 3)" in doc
    assert f"at least {spec.min_size}" in doc
    assert f"Reference: {spec.paper}." in doc
    if options:
        section = doc.split("Options (keyword-only):\n", 1)[1]
        assert re.findall(r"^  (\w+):", section, re.M) == options
    else:
        assert "Options" not in doc
