"""A direct NumPy convolution: the independent reference of the convolution layers' tests."""

import numpy as np


def numpy_conv(x, k, stride, padding, dilation=1):
    """Direct NHWC convolution, TF's 'same' padding rule, float64."""
    kh, kw = (k.shape[0] - 1) * dilation + 1, (k.shape[1] - 1) * dilation + 1
    h, w = x.shape[1:3]
    if padding == "same":
        oh, ow = -(-h // stride), -(-w // stride)
        ph, pw = max((oh - 1) * stride + kh - h, 0), max((ow - 1) * stride + kw - w, 0)
        x = np.pad(x, [(0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)])
    oh, ow = (x.shape[1] - kh) // stride + 1, (x.shape[2] - kw) // stride + 1
    out = np.zeros((x.shape[0], oh, ow, k.shape[-1]))
    for i in range(k.shape[0]):
        for j in range(k.shape[1]):
            patch = x[
                :,
                i * dilation : i * dilation + stride * (oh - 1) + 1 : stride,
                j * dilation : j * dilation + stride * (ow - 1) + 1 : stride,
                :,
            ]
            out += patch.astype(np.float64) @ k[i, j].astype(np.float64)
    return out
