"""The input records of the timm conversion rows against timm's own pretrained configs."""

import numpy as np
import pytest

from convert_parity import block_triton
from keras_classics import convert

block_triton()


@pytest.mark.parametrize("name", convert.list_convertible()["timm"])
def test_timm_row_records_timms_pretrained_config(name):
    """Size, crop, interpolation and mean/std as timm's config of the name (its default tag
    for an architecture name)."""
    # The parity extra, which CI installs; without it a counted skip, as the parity tests.
    timm = pytest.importorskip("timm", reason="timm's configs need timm: pip install timm")

    row = convert.get_conversion("timm", name)
    cfg = timm.models.get_pretrained_cfg(name)
    assert row.input.size == cfg.input_size[1]
    assert row.input.crop_ratio == pytest.approx(cfg.crop_pct)
    assert row.input.interpolation == cfg.interpolation
    np.testing.assert_allclose(row.input.mean, cfg.mean, atol=1e-6)
    np.testing.assert_allclose(row.input.std, cfg.std, atol=1e-6)
