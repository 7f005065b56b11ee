"""Depthwise 3x3 convolution on CPU: one training step of a few MobileNetV2-like layers.

    python benchmarks/bench_depthwise.py --batch 16 --rounds 3

A small net of depthwise 3x3 convolutions (each followed by BN and ReLU6, as MobileNetV2's
inverted residual blocks, Sandler et al. 2018, Table 2) at 112, 56 and 28 pixels with 32 to
192 channels, trained one step at a time (model.train_on_batch, SGD, mean squared error; the
first steps untimed) in three ways:
  - keras.layers.DepthwiseConv2D (TensorFlow's DepthwiseConv2dNative and its backprops);
  - keras_classics.layers.GroupConv2D with groups = channels (channel slices, one dense
    convolution each, concatenated);
  - torch.nn.Conv2d(groups=C) in PyTorch, same layers, one optimiser step (the reference a
    torch user sees on the same CPU).
The three ways are checked to give the same forward outputs on the same weights before
timing; each way is then timed in its own process (a PyTorch training step in a process that
has loaded TensorFlow crashes with a segmentation fault here). Prints the CPU model, the load
(`uptime`) and the median step time of each way.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

import numpy as np
import torch

# (input side, channels, stride): MobileNetV2's depthwise layers at 112, 56 and 28 pixels.
LAYERS = [(112, 32, 1), (112, 96, 2), (56, 144, 1), (56, 144, 2), (28, 192, 1)]
WAYS = {
    "DepthwiseConv2D": "keras.layers.DepthwiseConv2D",
    "GroupConv2D": "keras_classics GroupConv2D(groups=C)",
    "torch": "torch.nn.Conv2d(groups=C)",
}


def keras_net(way):
    # Imported here: a process that has loaded TensorFlow crashes in a PyTorch training step
    # (a segmentation fault here), so the torch timing runs in a process without it.
    import keras

    from keras_classics.layers import GroupConv2D

    inputs = keras.Input((112, 112, 32))
    x = inputs
    for i, (_, channels, stride) in enumerate(LAYERS):
        if x.shape[-1] != channels:  # a pointwise expansion, as the blocks' 1x1
            x = keras.layers.Conv2D(
                channels, 1, use_bias=False, kernel_initializer="he_normal", name=f"pw{i}"
            )(x)
        if way == "DepthwiseConv2D":
            # He initialisation over a depthwise filter's true fan-in, 9 (Keras' "he_normal"
            # counts 9 C for a (3, 3, C, 1) kernel), keeps the outputs near unit scale, so the
            # forward check below compares values, not near-zeros.
            x = keras.layers.DepthwiseConv2D(
                3,
                stride,
                padding="same",
                use_bias=False,
                depthwise_initializer=keras.initializers.RandomNormal(stddev=(2 / 9) ** 0.5),
                name=f"dw{i}",
            )(x)
        else:
            x = GroupConv2D(
                channels, 3, stride, padding="same", groups=channels, use_bias=False, name=f"dw{i}"
            )(x)
        x = keras.layers.BatchNormalization(name=f"bn{i}")(x)
        x = keras.layers.ReLU(6.0, name=f"relu{i}")(x)
    model = keras.Model(inputs, x)
    model.compile(keras.optimizers.SGD(0.01), "mse")
    return model


def torch_net(reference=None):
    """The same net in PyTorch, with `reference`'s weights (a Keras net) or torch's own."""
    layers = []
    cin = 32
    for i, (_, channels, stride) in enumerate(LAYERS):
        if cin != channels:
            pw = torch.nn.Conv2d(cin, channels, 1, bias=False)
            if reference is not None:
                w = reference.get_layer(f"pw{i}").kernel.numpy()
                pw.weight.data = torch.from_numpy(w.transpose(3, 2, 0, 1).copy())
            layers.append(pw)
        # 'same' with stride 2 on an even side pads (0, 1): TF's convention, as Keras.
        pad = (1, 1, 1, 1) if stride == 1 else (0, 1, 0, 1)
        dw = torch.nn.Conv2d(channels, channels, 3, stride, groups=channels, bias=False)
        if reference is not None:
            k = reference.get_layer(f"dw{i}").kernel.numpy()  # (3, 3, C, 1)
            dw.weight.data = torch.from_numpy(k.transpose(2, 3, 0, 1).copy())
        bn = torch.nn.BatchNorm2d(channels, eps=1e-3)
        layers += [torch.nn.ZeroPad2d(pad), dw, bn, torch.nn.ReLU6()]
        cin = channels
    return torch.nn.Sequential(*layers)


def time_steps(step, rounds, reps):
    for _ in range(2):  # warm
        step()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(reps):
            step()
        times.append((time.perf_counter() - start) / reps)
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--time", choices=WAYS, help="time one way (in a process of its own)")
    args = parser.parse_args()
    if args.time:
        return time_way(args.time, args)
    cpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    print(next((line for line in cpu.splitlines() if "Model name" in line), "Model name: ?"))
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    print(f"torch threads {torch.get_num_threads()}, batch {args.batch}")

    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.batch, 112, 112, 32)).astype("float32")
    depthwise = keras_net("DepthwiseConv2D")
    split = keras_net("GroupConv2D")
    for layer in depthwise.layers[1:]:  # the same weights: (3, 3, C, 1) -> (3, 3, 1, C)
        weights = layer.get_weights()
        if layer.name.startswith("dw"):
            weights = [weights[0].transpose(0, 1, 3, 2)]
        split.get_layer(layer.name).set_weights(weights)
    net = torch_net(depthwise)
    reference = depthwise.predict(x, verbose=0)
    got = {
        "GroupConv2D": split.predict(x, verbose=0),
        "torch": net.eval()(torch.from_numpy(x.transpose(0, 3, 1, 2))).detach().numpy(),
    }
    got["torch"] = got["torch"].transpose(0, 2, 3, 1)
    for way, out in got.items():
        diff = float(np.abs(out - reference).max())
        assert diff <= 1e-4 * float(np.abs(reference).max()), (way, diff)
        scale = float(np.abs(reference).max())
        print(f"{way} forward vs DepthwiseConv2D: max |diff| {diff:.2e} (largest {scale:.2e})")

    print("| way | median step (ms) | rounds (ms) |")
    print("|---|---|---|")
    for way in WAYS:
        command = [sys.executable, __file__, "--time", way]
        command += ["--batch", str(args.batch), "--rounds", str(args.rounds)]
        command += ["--reps", str(args.reps)]
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        print(out.strip().splitlines()[-1])
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


def time_way(way, args):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.batch, 112, 112, 32)).astype("float32")
    if way == "torch":
        net = torch_net().train()
        optimiser = torch.optim.SGD(net.parameters(), 0.01)
        tx = torch.from_numpy(x.transpose(0, 3, 1, 2).copy())
        ty = torch.zeros_like(net(tx))

        def step():
            optimiser.zero_grad()
            torch.nn.functional.mse_loss(net(tx), ty).backward()
            optimiser.step()

    else:
        model = keras_net(way)
        y = np.zeros((args.batch, *model.output_shape[1:]), "float32")

        def step():
            model.train_on_batch(x, y)

    times = time_steps(step, args.rounds, args.reps)
    rounds = ", ".join(f"{t * 1e3:.0f}" for t in times)
    print(f"| {WAYS[way]} | {statistics.median(times) * 1e3:.0f} | {rounds} |")


if __name__ == "__main__":
    main()
