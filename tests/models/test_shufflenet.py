"""ShuffleNet v1 against a PyTorch transcription of the paper's units (no library has v1), its
options' checks and the stem rule. v2 is checked against torchvision's by the conversion
parity tests (tests/convert/test_parity_torch.py)."""

import numpy as np
import pytest

import keras_classics

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional


def shuffle(x, groups):
    """Zhang et al. 2018, section 3.1: reshape the channels to (g, n), transpose, flatten."""
    b, c, h, w = x.shape
    return x.view(b, groups, c // groups, h, w).transpose(1, 2).reshape(b, c, h, w)


class ShuffleNetV1(nn.Module):
    """Table 1 and Fig. 2(b, c) written in torch, its modules keyed by our layer names."""

    def __init__(self, groups, stem, widths, depths, classes=10):
        super().__init__()
        self.m, self.units, self.groups = nn.ModuleDict(), [], groups

        def conv_bn(name, cin, cout, k, stride=1, g=1):
            self.m[f"{name}_conv"] = nn.Conv2d(cin, cout, k, stride, k // 2, groups=g, bias=False)
            self.m[f"{name}_bn"] = nn.BatchNorm2d(cout)

        conv_bn("conv1", 3, stem, 3, 2)
        cin = stem
        for stage, (width, depth) in enumerate(zip(widths, depths), start=2):
            for index in range(1, depth + 1):
                name, stride = f"stage{stage}_{index}", 2 if index == 1 else 1
                first = 1 if (stage, index) == (2, 1) else groups
                mid = width // 4
                conv_bn(f"{name}_gconv1", cin, mid, 1, g=first)
                conv_bn(f"{name}_dwconv", mid, mid, 3, stride, g=mid)
                conv_bn(f"{name}_gconv2", mid, width - cin if stride > 1 else width, 1, g=groups)
                self.units.append((name, stride))
                cin = width
        self.m["predictions"] = nn.Linear(cin, classes)

    def unit(self, x, name, stride):
        m = self.m
        h = F.relu(m[f"{name}_gconv1_bn"](m[f"{name}_gconv1_conv"](x)))
        h = shuffle(h, self.groups)
        h = m[f"{name}_dwconv_bn"](m[f"{name}_dwconv_conv"](h))
        h = m[f"{name}_gconv2_bn"](m[f"{name}_gconv2_conv"](h))
        if stride > 1:
            return F.relu(torch.cat([F.avg_pool2d(x, 3, 2, 1), h], 1))
        return F.relu(x + h)

    def forward(self, x):
        x = F.relu(self.m["conv1_bn"](self.m["conv1_conv"](x)))
        x = F.max_pool2d(x, 3, 2, 1)
        for name, stride in self.units:
            x = self.unit(x, name, stride)
        return self.m["predictions"](x.mean((2, 3)))


def copy_into(reference, model, rng):
    """Our weights (BN statistics randomised first) into the torch modules of the same name."""
    for layer in model.layers:
        weights = [w.numpy() for w in layer.weights]
        if not weights:
            continue
        module = reference.m[layer.name]
        if layer.name.endswith("_bn"):
            gamma, beta = (rng.uniform(0.5, 1.5, w.shape).astype("float32") for w in weights[:2])
            mean = rng.normal(0, 0.5, weights[2].shape).astype("float32")
            var = rng.uniform(0.5, 2.0, weights[3].shape).astype("float32")
            layer.set_weights([gamma, beta, mean, var])
            params = zip(
                ("weight", "bias", "running_mean", "running_var"), (gamma, beta, mean, var)
            )
            for key, value in params:
                getattr(module, key).data = torch.from_numpy(value)
        elif layer.name == "predictions":
            module.weight.data = torch.from_numpy(weights[0].T.copy())
            module.bias.data = torch.from_numpy(weights[1])
        elif layer.name.endswith("_dwconv_conv"):  # (3, 3, C, 1) -> (C, 1, 3, 3)
            module.weight.data = torch.from_numpy(weights[0].transpose(2, 3, 0, 1).copy())
        else:  # (kh, kw, cin / g, cout) -> (cout, cin / g, kh, kw)
            module.weight.data = torch.from_numpy(weights[0].transpose(3, 2, 0, 1).copy())


@pytest.mark.parametrize(
    "builder, alpha, stem",
    [
        (keras_classics.ShuffleNetV1_G1, 1.0, 24),
        (keras_classics.ShuffleNetV1_G3, 1.0, 24),
        (keras_classics.ShuffleNetV1_G8, 0.5, 16),  # 12 rounded up to a multiple of 8
    ],
)
def test_v1_matches_a_torch_transcription_of_the_paper(builder, alpha, stem):
    """Stage2's two unit kinds (its first pointwise conv ungrouped) and the strided units of
    Stage3 and Stage4: the shuffle's order, the shortcut's padded average pool and its place
    in the concatenation, the stem and the head."""
    depths = (2, 1, 1)
    model = builder(
        alpha=alpha, depths=depths, classes=10, classifier_activation=None, input_shape=(64, 64, 3)
    )
    assert model.get_layer("conv1_conv").filters == stem
    groups = int(builder.__name__[-1])
    widths = tuple(round({1: 144, 3: 240, 8: 384}[groups] * alpha) * 2**k for k in range(3))
    reference = ShuffleNetV1(groups, stem, widths, depths).eval()
    rng = np.random.default_rng(0)
    copy_into(reference, model, rng)
    x = rng.normal(size=(2, 64, 64, 3)).astype("float32")
    ours = np.asarray(model(x, training=False), np.float64)
    with torch.no_grad():
        expected = reference(torch.from_numpy(x.transpose(0, 3, 1, 2).copy())).numpy()
    assert np.abs(expected).max() > 0
    assert np.abs(ours - expected).max() <= 1e-4 * np.abs(expected).max()


def test_v1_stem_rule_and_megvii_forms():
    """24 x alpha rounded up to a multiple of g; stem_filters and classifier_bias as given."""
    small = dict(depths=(1, 1, 1), input_shape=(32, 32, 3), classes=10)
    g3 = keras_classics.ShuffleNetV1_G3(alpha=1.5, **small)
    assert g3.get_layer("conv1_conv").filters == 36
    assert g3.get_layer("stage2_1_gconv2_conv").filters == 360 - 36
    megvii = keras_classics.ShuffleNetV1_G3(
        alpha=1.5, stem_filters=24, classifier_bias=False, **small
    )
    assert megvii.get_layer("conv1_conv").filters == 24
    assert not megvii.get_layer("predictions").use_bias
    assert len(megvii.get_layer("predictions").weights) == 1
    assert megvii.builder_options["stem_filters"] == 24


@pytest.mark.parametrize(
    "options, pattern",
    [
        ({"alpha": 0}, r"alpha=0 is invalid; accepted: a positive number"),
        ({"alpha": True}, r"alpha=True is invalid"),
        ({"stem_filters": 0}, r"stem_filters=0 is invalid; accepted: None .* positive integer"),
        ({"classifier_bias": 1}, r"classifier_bias=1 is invalid; accepted: True or False"),
        ({"depths": (4, 8)}, r"depths=\(4, 8\) is invalid; accepted: .* 3 positive integers"),
        # g = 4 at 0.5x: a bottleneck of 136 / 4 = 34 channels does not split into 4 groups.
        ({"alpha": 0.5}, r"alpha=0.5 with stem_filters=12 gives stage widths \(136, 272, 544\)"),
        # Stage2's first branch, 272 - 26 = 246 channels, does not split into 4 groups.
        ({"stem_filters": 26}, r"a first branch of 246, .* multiples of 4"),
    ],
)
def test_v1_bad_options(options, pattern):
    with pytest.raises(ValueError, match=pattern):
        keras_classics.ShuffleNetV1_G4(**options)


def test_v2_bad_depths():
    with pytest.raises(ValueError, match=r"depths=\(0, 1, 1\) is invalid"):
        keras_classics.ShuffleNetV2_x0_5(depths=(0, 1, 1))
