"""Residual Attention Networks: the mask branch's Caffe pooling against torch's ceil mode, the
mask's grids (Wang et al. 2017, section 3.3: down to 7x7 at 224), the smallest input."""

import keras
import numpy as np
import pytest
import torch

import keras_classics
from keras_classics.models import residual_attention


@pytest.mark.parametrize("side", [(2, 2), (5, 5), (6, 7), (8, 3), (56, 56)])
def test_mask_pooling_is_caffes_ceil_mode(side):
    """Caffe's 3x3/2 pooling rounds its output up, as torch's ceil_mode=True: the windows of
    signed inputs (the mask pools read raw sums) at odd and even sides."""
    x = np.random.default_rng(0).normal(size=(2, *side, 3)).astype("float32")
    inputs = keras.Input((None, None, 3))
    model = keras.Model(inputs, residual_attention.max_pool(inputs, "pool"))
    expected = torch.nn.functional.max_pool2d(
        torch.from_numpy(x.transpose(0, 3, 1, 2)), 3, 2, ceil_mode=True
    )
    np.testing.assert_array_equal(np.asarray(model(x)), expected.numpy().transpose(0, 2, 3, 1))


def _grids(model, name):
    """{pool layer: its output grid} of module `name`'s mask."""
    return {
        layer.name: tuple(layer.output.shape[1:3])
        for layer in model.layers
        if layer.name.startswith(f"{name}_mask_down_sample_pool")
        and isinstance(layer, keras.layers.MaxPooling2D)
        and tuple(layer.strides) == (2, 2)
    }


def test_masks_pool_down_to_7x7_at_224():
    model = keras_classics.get_model(
        "residual_attention56", depths=(1, 1, 1, 1), input_shape=(224, 224, 3), include_top=False
    )
    assert _grids(model, "attention_a_1") == {
        "attention_a_1_mask_down_sample_pool1_3x3_s2": (28, 28),
        "attention_a_1_mask_down_sample_pool2_3x3_s2": (14, 14),
        "attention_a_1_mask_down_sample_pool3_3x3_s2": (7, 7),
    }
    assert _grids(model, "attention_b_1") == {
        "attention_b_1_mask_down_sample_pool1_3x3_s2": (14, 14),
        "attention_b_1_mask_down_sample_pool2_3x3_s2": (7, 7),
    }
    assert _grids(model, "attention_c_1") == {"attention_c_1_mask_down_sample_pool1_3x3_s2": (7, 7)}
    # Each mask is up-sampled back to its trunk's grid.
    for name, grid in (("attention_a_1", 56), ("attention_b_1", 28), ("attention_c_1", 14)):
        assert tuple(model.get_layer(f"{name}_mask").output.shape[1:3]) == (grid, grid)


def test_smallest_input():
    """31 is the least side whose stage-1 mask can pool three times (a 1x1 grid at the
    bottom); 30 is refused by name."""
    model = keras_classics.get_model(
        "residual_attention56", depths=(1, 1, 1, 1), input_shape=(31, 31, 3), include_top=False
    )
    assert tuple(
        model.get_layer("attention_a_1_mask_down_sample_pool3_3x3_s2").output.shape[1:3]
    ) == (1, 1)
    assert tuple(model.output.shape[1:3]) == (1, 1)
    with pytest.raises(ValueError, match=r"input_shape=\(30, 30, 3\) is too small.*>= 31"):
        keras_classics.get_model("residual_attention56", input_shape=(30, 30, 3))


@pytest.mark.parametrize("depths", [(1, 1, 1), (1, 0, 1, 1), (1, 1, 1, 1.0), "1113"])
def test_bad_depths(depths):
    with pytest.raises(ValueError, match=r"depths=.* is invalid; accepted"):
        keras_classics.get_model("residual_attention56", depths=depths)
