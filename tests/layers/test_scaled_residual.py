"""ScaledResidual's skip gain (the NFNets' SkipInit scalar): NumPy values, start, round trip."""

import keras
import numpy as np
import pytest

from keras_classics.layers import ScaledResidual


def test_skip_gain_scales_the_branch_and_starts_at_zero(tmp_path):
    rng = np.random.default_rng(0)
    x, r = rng.normal(size=(2, 2, 3, 3, 4)).astype("float32")
    layer = ScaledResidual(0.4, skip_gain=True, name="add")
    np.testing.assert_array_equal(layer([x, r]), x)  # the identity at initialisation
    assert [v.path for v in layer.trainable_variables] == ["add/skip_gain"]
    layer.set_weights([np.array(1.5, "float32")])
    np.testing.assert_allclose(layer([x, r]), x + 0.4 * 1.5 * r, rtol=1e-6)
    inputs = [keras.Input((3, 3, 4)), keras.Input((3, 3, 4))]
    model = keras.Model(inputs, layer(inputs))
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_allclose(restored([x, r]), x + 0.6 * r, rtol=1e-6)
    assert ScaledResidual(0.2)._trainable_variables == []  # without it: no variable


def test_bad_skip_gain():
    with pytest.raises(ValueError, match=r"skip_gain=1 is invalid; accepted: True or False"):
        ScaledResidual(0.2, skip_gain=1)
