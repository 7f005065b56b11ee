"""Shared by the conversion tests: random source models, random inputs, the parity measure."""

import sys

import numpy as np

# The parity criterion (docs/convert.md):
# max |ours - source| <= 1e-4 * max |source logit|, float32.
TOLERANCE = 1e-4
TORCH_INSTALL = "pip install torch==2.14.1 torchvision==0.29.1"


def block_triton():
    """Keeps torchvision from importing triton, which these CPU tests never use.

    torchvision imports torch._dynamo, which imports triton when it is installed (the torch
    wheel depends on it); loading triton's libtriton after TensorFlow segfaults the process
    (torch 2.14.1, TF 2.21, measured here), and pytest has imported TensorFlow by then.
    """
    sys.modules.setdefault("triton", None)  # `import triton` now raises ImportError


def relative_diff(ours, reference):
    ours, reference = np.asarray(ours, np.float64), np.asarray(reference, np.float64)
    assert ours.shape == reference.shape, (ours.shape, reference.shape)
    return float(np.abs(ours - reference).max() / np.abs(reference).max())


def assert_parity(ours, reference, what):
    diff = relative_diff(ours, reference)
    print(f"\nparity {what}: max |diff| / max |logit| = {diff:.2e}")
    assert np.isfinite(reference).all() and np.abs(reference).max() > 0
    assert diff <= TOLERANCE, f"{what}: relative difference {diff:.3e} > {TOLERANCE}"
    return diff


def nhwc_input(size, batch=2, seed=0):
    return np.random.default_rng(seed).standard_normal((batch, size, size, 3)).astype("float32")


def rgb_images(size, batch=2, seed=0):
    """Random RGB images in [0, 255] (float32, NHWC), for checks that preprocess them."""
    rng = np.random.default_rng(seed)
    return rng.uniform(0.0, 255.0, (batch, size, size, 3)).astype("float32")


def randomise_torch_batchnorm(model, seed=0):
    """Random BN affine parameters and running statistics (torch inits them to 1, 0, 0, 1,
    which would hide a swapped or dropped BN array), then eval mode. The normalizer-free nets'
    scaled weight-standardised convs get random gains and biases, their blocks random skip
    gains likewise (timm inits them to 1, 0 and 0: a zero skip gain would hide a branch)."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.weight.uniform_(0.5, 1.5, generator=generator)
                module.bias.normal_(0.0, 0.2, generator=generator)
                module.running_mean.normal_(0.0, 0.2, generator=generator)
                module.running_var.uniform_(0.5, 2.0, generator=generator)
            if isinstance(getattr(module, "gain", None), torch.nn.Parameter):
                module.gain.uniform_(0.5, 1.5, generator=generator)
                module.bias.normal_(0.0, 0.1, generator=generator)
            if isinstance(getattr(module, "skipinit_gain", None), torch.nn.Parameter):
                module.skipinit_gain.uniform_(0.5, 1.5, generator=generator)
    return model.eval()


def torch_forward(model, x_nhwc, features=False):
    """The source's output (logits, or `features` maps back in NHWC) for an NHWC batch."""
    import torch

    with torch.no_grad():
        x = torch.from_numpy(np.ascontiguousarray(x_nhwc.transpose(0, 3, 1, 2)))
        out = (model.features(x) if features else model(x)).numpy()
    return out.transpose(0, 2, 3, 1) if features else out


def randomise_keras(model, seed=0):
    """Random biases, BN parameters and statistics for a Keras model (Keras inits them to
    constants); kernels keep their random initialisation."""
    rng = np.random.default_rng(seed)
    draw = {
        "bias": lambda s: rng.normal(0.0, 0.1, s),
        "gamma": lambda s: rng.uniform(0.5, 1.5, s),
        "beta": lambda s: rng.normal(0.0, 0.2, s),
        "moving_mean": lambda s: rng.normal(0.0, 0.2, s),
        "moving_variance": lambda s: rng.uniform(0.5, 2.0, s),
    }
    for variable in model.weights:
        if variable.name in draw:
            variable.assign(draw[variable.name](tuple(variable.shape)).astype("float32"))
    return model


def ours(model, x):
    return np.asarray(model(x, training=False))
