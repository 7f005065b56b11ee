"""InputNormalization against the published constants of each mode, written out here."""

import keras
import numpy as np
import pytest

from keras_classics.layers import InputNormalization

# torchvision's ImageNet mean/std (torchvision.transforms.Normalize in its references), Caffe's
# BGR mean pixel (keras.applications.imagenet_utils, mode "caffe"), TF-slim's [-1, 1].
REFERENCES = {
    "torch": lambda x: (x / 255.0 - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225],
    "caffe": lambda x: x[..., ::-1] - [103.939, 116.779, 123.68],
    "tf": lambda x: x / 127.5 - 1.0,
    "raw": lambda x: x,
}
PIXELS = np.random.default_rng(0).integers(0, 256, (2, 7, 5, 3)).astype(np.uint8)


@pytest.mark.parametrize("mode", sorted(REFERENCES))
def test_uint8_pixels_normalised_as_published(mode):
    out = InputNormalization(mode)(PIXELS)
    assert out.dtype == "float32"
    expected = REFERENCES[mode](PIXELS.astype(np.float64))
    np.testing.assert_allclose(np.asarray(out), expected, rtol=0, atol=1e-4)


@pytest.mark.parametrize("dtype", ["bfloat16", "float64"])
def test_output_in_the_compute_dtype(dtype):
    """Under mixed_bfloat16 the model's first convolution takes bfloat16; the equivalence
    checks' float64 models take float64 (normalised in float32 first)."""
    layer = InputNormalization("torch", dtype=keras.DTypePolicy(dtype))
    out = layer(PIXELS)
    assert out.dtype == dtype
    expected = REFERENCES["torch"](PIXELS.astype(np.float64))
    tolerance = 2.7 / 128 if dtype == "bfloat16" else 1e-6  # bfloat16: 8 significant bits
    np.testing.assert_allclose(np.asarray(out, np.float64), expected, rtol=0, atol=tolerance)


def test_config_round_trip_and_bad_mode():
    layer = InputNormalization("caffe", name="norm")
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(layer), safe_mode=True
    )
    assert type(restored) is InputNormalization and restored.mode == "caffe"
    with pytest.raises(ValueError, match="mode='imagenet' is invalid; accepted"):
        InputNormalization("imagenet")
