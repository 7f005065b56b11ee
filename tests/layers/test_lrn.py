"""LocalResponseNormalization against a direct NumPy transcription of the paper's formula."""

import keras
import numpy as np
import pytest

from keras_classics.layers import LocalResponseNormalization


def lrn_reference(a, n=5, k=2.0, alpha=1e-4, beta=0.75):
    """Krizhevsky et al. 2012, section 3.3, summing over max(0, i-n/2) .. min(N-1, i+n/2)."""
    channels = a.shape[-1]
    b = np.empty_like(a, dtype=np.float64)
    for i in range(channels):
        lo, hi = max(0, i - n // 2), min(channels - 1, i + n // 2)
        b[..., i] = (
            a[..., i] / (k + alpha * (a[..., lo : hi + 1].astype(np.float64) ** 2).sum(-1)) ** beta
        )
    return b


@pytest.mark.parametrize("kwargs", [{}, {"size": 3, "bias": 1.0, "alpha": 1e-3, "beta": 0.5}])
def test_matches_paper_formula(kwargs):
    # Values large enough that the alpha term matters (ReLU outputs reach tens).
    a = np.random.default_rng(0).uniform(0, 60, (2, 5, 5, 16)).astype("float32")
    ref = lrn_reference(
        a,
        **{
            "n": kwargs.get("size", 5),
            "k": kwargs.get("bias", 2.0),
            "alpha": kwargs.get("alpha", 1e-4),
            "beta": kwargs.get("beta", 0.75),
        },
    )
    out = np.asarray(LocalResponseNormalization(**kwargs)(a))
    np.testing.assert_allclose(out, ref, rtol=1e-5)
    assert np.abs(out - a / 2.0**0.75).max() > 1e-2  # the sum term is exercised


@pytest.mark.parametrize("kwargs", [{}, {"size": 3, "bias": 1.0, "alpha": 1e-3, "beta": 0.5}])
def test_float64_written_out_matches_paper_formula(kwargs):
    """float64 inputs (which TensorFlow's LRN op has no kernel for) get the formula written
    out, exact to float64's precision."""
    a = np.random.default_rng(3).uniform(0, 60, (2, 5, 5, 16))
    ref = lrn_reference(
        a,
        **{
            "n": kwargs.get("size", 5),
            "k": kwargs.get("bias", 2.0),
            "alpha": kwargs.get("alpha", 1e-4),
            "beta": kwargs.get("beta", 0.75),
        },
    )
    out = LocalResponseNormalization(dtype="float64", **kwargs)(a)
    assert out.dtype == "float64"
    np.testing.assert_allclose(np.asarray(out), ref, rtol=1e-12)


def test_caffe_convention_divides_alpha_by_size():
    a = np.random.default_rng(1).uniform(0, 60, (1, 3, 3, 8)).astype("float32")
    out = np.asarray(LocalResponseNormalization(alpha=5e-4, alpha_convention="caffe")(a))
    np.testing.assert_allclose(out, lrn_reference(a, alpha=1e-4), rtol=1e-5)


@pytest.mark.parametrize(
    "kwargs,word",
    [({"size": 4}, "size=4"), ({"size": 0}, "size=0"), ({"alpha_convention": "torch"}, "'torch'")],
)
def test_bad_arguments(kwargs, word):
    with pytest.raises(ValueError, match=word):
        LocalResponseNormalization(**kwargs)


def test_keras_round_trip(tmp_path):
    inputs = keras.Input((4, 4, 8))
    model = keras.Model(
        inputs,
        LocalResponseNormalization(size=3, alpha=2e-3, alpha_convention="caffe", name="norm")(
            inputs
        ),
    )
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    layer = restored.get_layer("norm")
    assert (layer.size, layer.alpha, layer.alpha_convention) == (3, 2e-3, "caffe")
    x = np.random.default_rng(2).uniform(0, 30, (1, 4, 4, 8)).astype("float32")
    np.testing.assert_allclose(restored(x), model(x), rtol=1e-6)
    assert layer.compute_output_shape((None, 4, 4, 8)) == (None, 4, 4, 8)
