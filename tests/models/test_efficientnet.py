"""EfficientNet's stochastic depth rule and its options, on B0 (Table 1's 16 blocks)."""

import pytest

import keras_classics
from keras_classics.layers import StochasticDepth

# Table 1 (B0): blocks 1a, 2a-b, 3a-b, 4a-c, 5a-c, 6a-d, 7a, counted from 0; a block has its
# residual sum where its stride is 1 and its input and output widths agree: 2b, 3b, 4b, 4c,
# 5b, 5c, 6b, 6c, 6d (1a changes 32 -> 16, 7a 192 -> 320).
RESIDUAL_INDEX = {
    "block2b": 2,
    "block3b": 4,
    "block4b": 6,
    "block4c": 7,
    "block5b": 9,
    "block5c": 10,
    "block6b": 12,
    "block6c": 13,
    "block6d": 14,
}


def drop_rates(model):
    return {
        layer.name.removesuffix("_drop"): layer.rate
        for layer in model.layers
        if isinstance(layer, StochasticDepth)
    }


def test_block_i_of_n_drops_its_branch_at_rate_i_over_n():
    model = keras_classics.EfficientNetB0(input_shape=(32, 32, 3), drop_path_rate=0.2)
    expected = {block: 0.2 * i / 16 for block, i in RESIDUAL_INDEX.items()}
    assert drop_rates(model) == pytest.approx(expected)
    assert model.get_layer("top_dropout").rate == 0.2  # dropout=None: the row's


def test_no_stochastic_depth_layer_at_rate_zero_and_bad_rates_refused():
    model = keras_classics.EfficientNetB0(
        input_shape=(32, 32, 3), drop_path_rate=0.0, depths=(1, 2, 1, 1, 1, 1, 1)
    )
    assert drop_rates(model) == {}
    assert "block2b_add" in [layer.name for layer in model.layers]
    with pytest.raises(ValueError, match=r"drop_path_rate=1\.0 is invalid"):
        keras_classics.EfficientNetB0(drop_path_rate=1.0)
    with pytest.raises(ValueError, match=r"bn_epsilon=0 is invalid"):
        keras_classics.EfficientNetB0(bn_epsilon=0)


def test_lite_has_no_squeeze_excitation_and_relu6():
    model = keras_classics.EfficientNetLite0(input_shape=(32, 32, 3))
    kinds = {type(layer).__name__ for layer in model.layers}
    assert "SqueezeExcite" not in kinds
    assert model.get_layer("stem_activation").max_value == 6.0
    assert model.get_layer("stem_conv").filters == 32
