"""Logit parity of every torchvision and timm conversion, on random weights and BN statistics.

Each source model is built untrained (nothing is downloaded), its BatchNorm parameters and
running statistics randomised, and run in eval mode next to our converted model on the same
random RGB images, each model given the images prepared its own way: the source with its
library's normalisation (torchvision: ImageNet mean/std; timm: the mean/std of the model's
pretrained config), ours with the row's preprocessing, which this checks too. torchvision's
googlenet and inception_v3 are built as their pretrained weights are used, with
transform_input=True.

Global-pooling nets compare logits at 64x64 (Inception at 75). AlexNet and VGG have a
Flatten + fc head fixed to the 224 grid: the head (with torch's NCHW flatten order) is compared
at 224 for alexnet and vgg11_bn, the other VGGs compare their conv features at 32x32.
"""

import numpy as np
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

from keras_classics import convert, get_spec, preprocess_input  # noqa: E402

# Input size of the logit comparison where 64x64 is too small for the body (the Inception
# nets need >= 75: their 8x8 grids are 1x1 there); global-pooling nets default to 64.
SIZE = {
    name: 75
    for name in ("inception_v3", "inception_v3.gluon_in1k", "inception_v4", "inception_resnet_v2")
}
# torchvision builds its pretrained googlenet and inception_v3 with transform_input=True (it
# maps the mean/std-normalised input to [-1, 1] inside the model); init_weights silences the
# warning of weights=None.
TORCHVISION_KWARGS = {
    name: dict(transform_input=True, init_weights=True) for name in ("googlenet", "inception_v3")
}
# Fixed-head models whose classifier is compared at 224 (one per family, BN and plain).
HEAD_AT_224 = {"alexnet", "vgg11_bn"}
# Build or run long on 2 CPU cores (the registry's largest models, registry_params.LARGE, and
# the 224 VGG head): left out of the quick loop; CI still runs them.
SLOW = {
    "resnet101",
    "resnet152",
    "resnext101_32x8d",
    "resnext101_64x4d",
    "vgg11_bn",
    "densenet161",
    "densenet201",
    # EfficientNet-B5 ... B7 (30 M to 66 M parameters, 39 to 55 blocks): built in full once.
    "efficientnet_b5",
    "efficientnet_b6",
    "efficientnet_b7",
}
TIMM_SLOW = {
    "resnext101_32x4d",
    "inception_v4",
    "inception_resnet_v2",
    "dpn92",
    "dpn98",
    "dpn107",
    "dpn131",
    "seresnext101_32x4d",
    "legacy_seresnet101",
    "legacy_seresnet152",
    "legacy_seresnext101_32x4d",
    "dm_nfnet_f0",
    # The largest EfficientNets, and the AdvProp rows (the same architectures as the
    # tf_efficientnet_b* rows, other preprocessing) but B0's.
    *(f"tf_efficientnet_b{b}" for b in (5, 6, 7)),
    *(f"tf_efficientnet_b{b}.ap_in1k" for b in range(1, 8)),
}
# Stage depths (timm's `layers`, our `depths`) of sources compared shallower: random
# SE-ResNet-152s are chaotic, the difference doubling with each conv4 block past the 20th
# (float32: 2e-5 at conv4_block20, 0.26 at the logits; in float64 still 1.6e-4), whatever the
# input size. At 12 conv4 blocks the name map (one rule for every block index) is the same.
# SENet-154 (115 M parameters, built in full once by the registry tests) is compared at two
# blocks a stage: its stem, a strided block with its 3x3 projection and an identity block in
# every stage, the map of every layer kind it has.
# DPN-107 and DPN-131 likewise (86.9 M and 79.3 M parameters; the largest models
# are built in full once a run): two blocks a stage hold the projection and the plain dual path
# block of each stage.
TIMM_DEPTHS = {
    "legacy_seresnet152": (3, 8, 12, 3),
    "senet154": (2, 2, 2, 2),
    "legacy_senet154": (2, 2, 2, 2),
    "dpn107": (2, 2, 2, 2),
    "dpn131": (2, 2, 2, 2),
    # NFNet-F1 ... F6 are F0 with more blocks (71.5 M to 438.4 M parameters; built in full once
    # a run by the registry tests): one block a stage but two in conv3 holds the stem, a
    # transition block in every stage and a plain block, the map of every layer kind.
    **{f"dm_nfnet_f{k}": (1, 2, 1, 1) for k in range(1, 7)},
}


def params(names, slow):
    return [pytest.param(n, marks=pytest.mark.slow) if n in slow else n for n in names]


def check(row, source, seed, source_mode="torch", **options):
    """Converts `source`'s state dict for `row` (with builder `options`) and compares outputs
    on the same images, the source's prepared with `source_mode`, ours with the row's
    preprocessing; returns the diff."""
    spec = get_spec(row.model)
    features = spec.fixed_head and row.name not in HEAD_AT_224
    size = 224 if row.name in HEAD_AT_224 else 32 if features else SIZE.get(row.name, 64)
    images = rgb_images(size, seed=seed)
    x = preprocess_input(images, row.input.mode)
    reference = torch_forward(source, preprocess_input(images, source_mode), features=features)
    kwargs = dict(include_top=False) if features else dict(classifier_activation=None)
    model = convert.convert(
        row.source, row.name, source.state_dict(), input_shape=(size, size, 3), **kwargs, **options
    )
    what = f"{row.source} {row.name} ({'features' if features else 'logits'} at {size})"
    return assert_parity(ours(model, x), reference, what)


@pytest.mark.parametrize("name", params(convert.conversions("torchvision"), SLOW))
def test_torchvision_parity(name):
    torch.manual_seed(0)
    source = getattr(torchvision.models, name)(weights=None, **TORCHVISION_KWARGS.get(name, {}))
    check(convert.get_conversion("torchvision", name), randomise_torch_batchnorm(source), 1)


@pytest.mark.parametrize("name", params(convert.conversions("timm"), TIMM_SLOW))
def test_timm_parity(name):
    timm = pytest.importorskip("timm", reason="timm parity needs timm: pip install timm")
    torch.manual_seed(0)
    layers = TIMM_DEPTHS.get(name)
    depths = {} if layers is None else {"depths": layers}
    # timm's DPN calls it k_sec, its NormFreeNet (a config field) depths.
    depth_arg = "k_sec" if name.startswith("dpn") else "depths" if "nf" in name else "layers"
    source = timm.create_model(
        name, pretrained=False, **({} if layers is None else {depth_arg: layers})
    )
    check(
        convert.get_conversion("timm", name),
        randomise_torch_batchnorm(source),
        2,
        timm_mode(source.pretrained_cfg),
        **depths,
    )


def timm_mode(config):
    """The preprocess_input mode of a timm pretrained config's mean and std."""
    from timm.data import (
        IMAGENET_DEFAULT_MEAN,
        IMAGENET_DEFAULT_STD,
        IMAGENET_DPN_MEAN,
        IMAGENET_DPN_STD,
        IMAGENET_INCEPTION_MEAN,
        IMAGENET_INCEPTION_STD,
    )

    modes = {
        (IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD): "torch",
        (IMAGENET_INCEPTION_MEAN, IMAGENET_INCEPTION_STD): "tf",
        (IMAGENET_DPN_MEAN, IMAGENET_DPN_STD): "dpn",
    }
    return modes[tuple(config["mean"]), tuple(config["std"])]


def test_torch_tensors_and_arrays_convert_alike():
    """A state dict of tensors and the same dict as NumPy arrays give the same weights."""
    torch.manual_seed(0)
    source = randomise_torch_batchnorm(torchvision.models.resnet18(weights=None))
    state = source.state_dict()
    as_numpy = {k: v.numpy() for k, v in state.items()}
    a = convert.from_torchvision("resnet18", state, input_shape=(64, 64, 3))
    b = convert.from_torchvision("resnet18", as_numpy, input_shape=(64, 64, 3))
    for wa, wb in zip(a.weights, b.weights):
        np.testing.assert_array_equal(wa.numpy(), wb.numpy())


def test_torchvision_inception_v3_aux_head_converts():
    """With aux_logits=True torchvision's AuxLogits weights fill our aux head: both outputs
    match torchvision's (its aux head on Mixed_6e, run in eval mode), at 299, the smallest
    input whose 17x17 grid the head is built for."""
    torch.manual_seed(0)
    source = randomise_torch_batchnorm(
        torchvision.models.inception_v3(weights=None, **TORCHVISION_KWARGS["inception_v3"])
    )
    grid = {}
    source.Mixed_6e.register_forward_hook(lambda module, args, out: grid.setdefault("6e", out))
    images = rgb_images(299, batch=1, seed=4)
    logits = torch_forward(source, preprocess_input(images, "torch"))
    with torch.no_grad():
        aux_logits = source.AuxLogits(grid["6e"]).numpy()
    model = convert.from_torchvision(
        "inception_v3", source.state_dict(), aux_logits=True, classifier_activation=None
    )
    main, aux = model(preprocess_input(images, "tf"), training=False)
    assert_parity(np.asarray(main), logits, "torchvision inception_v3 main (logits at 299)")
    assert_parity(np.asarray(aux), aux_logits, "torchvision inception_v3 AuxLogits (at 299)")
