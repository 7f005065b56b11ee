"""Logit parity of every torchvision and timm conversion, on random weights and BN statistics.

Each source model is built untrained (nothing is downloaded), its BatchNorm parameters and
running statistics randomised, and run in eval mode next to our converted model on the same
random input. Global-pooling nets compare logits at 64x64. AlexNet and VGG have a Flatten +
fc head fixed to the 224 grid: the head (with torch's NCHW flatten order) is compared at 224
for alexnet and vgg11_bn, the other VGGs compare their conv features at 32x32.
"""

import numpy as np
import pytest

from convert_parity import (TORCH_INSTALL, assert_parity, block_triton, nhwc_input, ours,
                            randomise_torch_batchnorm, torch_forward)

block_triton()

torch = pytest.importorskip("torch", reason=f"conversion parity needs torch: {TORCH_INSTALL}")
torchvision = pytest.importorskip("torchvision",
                                  reason=f"conversion parity needs torchvision: {TORCH_INSTALL}")

from keras_classics import convert, get_spec  # noqa: E402

# Input size of the logit comparison where 64x64 is too small for the body (the Inception
# rows will need >= 75); global-pooling nets default to 64.
SIZE = {}
# Fixed-head models whose classifier is compared at 224 (one per family, BN and plain).
HEAD_AT_224 = {"alexnet", "vgg11_bn"}
# Build or run long on 2 CPU cores; CI still runs them.
SLOW = {"resnet152", "resnext101_32x8d", "resnext101_64x4d", "vgg11_bn"}
TIMM_SLOW = {"resnext101_32x4d"}


def params(names, slow):
    return [pytest.param(n, marks=pytest.mark.slow) if n in slow else n for n in names]


def check(row, source, seed):
    """Converts `source`'s state dict for `row` and compares outputs; returns the diff."""
    spec = get_spec(row.model)
    features = spec.fixed_head and row.name not in HEAD_AT_224
    size = 224 if row.name in HEAD_AT_224 else 32 if features else SIZE.get(row.name, 64)
    x = nhwc_input(size, seed=seed)
    reference = torch_forward(source, x, features=features)
    kwargs = (dict(include_top=False) if features else dict(classifier_activation=None))
    model = row_function(row)(row.name, source.state_dict(), input_shape=(size, size, 3),
                              **kwargs)
    what = f"{row.source} {row.name} ({'features' if features else 'logits'} at {size})"
    return assert_parity(ours(model, x), reference, what)


def row_function(row):
    return convert.SOURCES[row.source][0]


@pytest.mark.parametrize("name", params(convert.torchvision.ROWS, SLOW))
def test_torchvision_parity(name):
    torch.manual_seed(0)
    source = getattr(torchvision.models, name)(weights=None)
    check(convert.get_conversion("torchvision", name), randomise_torch_batchnorm(source), 1)


@pytest.mark.parametrize("name", params(convert.timm.ROWS, TIMM_SLOW))
def test_timm_parity(name):
    timm = pytest.importorskip("timm", reason="timm parity needs timm: pip install timm")
    torch.manual_seed(0)
    source = timm.create_model(name, pretrained=False)
    check(convert.get_conversion("timm", name), randomise_torch_batchnorm(source), 2)


def test_torch_tensors_and_arrays_convert_alike():
    """A state dict of tensors and the same dict as NumPy arrays give the same weights."""
    torch.manual_seed(0)
    source = randomise_torch_batchnorm(torchvision.models.resnet18(weights=None))
    state = source.state_dict()
    as_numpy = {k: v.numpy() for k, v in state.items()}
    a = convert.from_torchvision("resnet18", state, input_shape=(64, 64, 3))
    b = convert.from_torchvision("resnet18", as_numpy, input_shape=(64, 64, 3))
    for wa, wb in zip(a.weights, b.weights):
        np.testing.assert_array_equal(wa.numpy(), wb.numpy())
