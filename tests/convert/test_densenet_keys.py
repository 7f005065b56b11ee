"""torchvision's published DenseNet files name a dense layer's units with the old dotted keys
(`denselayer1.norm.1.weight`, `conv.2`); torchvision's own loader renames them (`norm1`,
`conv2`) before loading, and our rows do the same: such a state dict converts to the same
logits as torchvision's model."""

import re

import pytest

from convert_parity import (
    TORCH_INSTALL,
    assert_parity,
    block_triton,
    ours,
    randomise_torch_batchnorm,
    rgb_images,
    torch_forward,
)

block_triton()

torch = pytest.importorskip("torch", reason=f"conversion parity needs torch: {TORCH_INSTALL}")
torchvision = pytest.importorskip(
    "torchvision", reason=f"conversion parity needs torchvision: {TORCH_INSTALL}"
)

from keras_classics import convert, preprocess_input  # noqa: E402

# torchvision.models.densenet._load_state_dict's pattern, written the other way round.
_NEW_KEY = re.compile(r"^(.*denselayer\d+\.(?:norm|relu|conv))([12])\.(.*)$")


def as_published(state):
    """The state dict with the published files' key names (norm1 -> norm.1)."""
    return {_NEW_KEY.sub(r"\1.\2.\3", key): value for key, value in state.items()}


def test_published_key_names_convert():
    torch.manual_seed(0)
    # DenseNet-121's row with one dense layer per block (the option's), as small as it gets.
    source = randomise_torch_batchnorm(torchvision.models.DenseNet(32, (1, 1, 1, 1), 64))
    state = as_published(source.state_dict())
    assert "features.denseblock1.denselayer1.norm.1.weight" in state
    assert "features.denseblock1.denselayer1.norm1.weight" not in state
    images = rgb_images(64, seed=4)
    reference = torch_forward(source, preprocess_input(images, "torch"))
    model = convert.convert(
        "torchvision",
        "densenet121",
        state,
        input_shape=(64, 64, 3),
        classifier_activation=None,
        depths=(1, 1, 1, 1),
    )
    assert_parity(ours(model, preprocess_input(images, "torch")), reference, "densenet121 keys")
