"""Ways to compute ResNeXt-50's grouped 3x3 convolutions on CPU, forward and backward.

    python benchmarks/bench_group_conv.py --batch 16 --rounds 3

For each grouped convolution of ResNeXt-50 32x4d (Xie et al. 2017, Table 1: widths 128 to
1024 in 32 groups, the first of a stage with stride 2 from stage 2 on), times one training
step's work of the layer (the output, the gradients with respect to the input and the kernel)
for:
  - split: `groups` convolutions on channel slices, concatenated (GroupConv2D today);
  - depthwise: one depthwise convolution with channel multiplier cin/groups, then the sum over
    each group's inputs (the same multiply-adds; an intermediate cin/groups times the output);
  - blocks s: groups/s dense convolutions, each over s groups with a block-diagonal kernel
    (s times the multiply-adds, s times fewer convolutions);
and prints, per way, the time summed over the network's 16 grouped layers. All the ways give
the same outputs (checked here against split before timing).
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

import numpy as np
import tensorflow as tf

# (width, input side, stride, layers like it): ResNeXt-50 32x4d's grouped 3x3 convolutions.
LAYERS = [
    (128, 56, 1, 3),
    (256, 56, 2, 1),
    (256, 28, 1, 3),
    (512, 28, 2, 1),
    (512, 14, 1, 5),
    (1024, 14, 2, 1),
    (1024, 7, 1, 2),
]
GROUPS = 32


def conv(x, k, stride):
    return tf.nn.conv2d(x, k, stride, "SAME")


def split(x, kernel, stride, groups):
    pieces = zip(tf.split(x, groups, axis=-1), tf.split(kernel, groups, axis=-1))
    return tf.concat([conv(a, b, stride) for a, b in pieces], axis=-1)


def depthwise(x, kernel, stride, groups):
    kh, kw, d, cout = kernel.shape
    o = cout // groups
    # kernel [kh, kw, d, groups * o] -> depthwise [kh, kw, groups * d, o]: input channel
    # (g, i) multiplies into the o outputs of group g.
    k = tf.reshape(
        tf.transpose(tf.reshape(kernel, [kh, kw, d, groups, o]), [0, 1, 3, 2, 4]),
        [kh, kw, groups * d, o],
    )
    y = tf.nn.depthwise_conv2d(x, k, [1, stride, stride, 1], "SAME")
    b, h, w = tf.shape(y)[0], tf.shape(y)[1], tf.shape(y)[2]
    summed = tf.reduce_sum(tf.reshape(y, [b, h, w, groups, d, o]), axis=4)
    return tf.reshape(summed, [b, h, w, groups * o])


def blocks(s):
    def fn(x, kernel, stride, groups):
        kh, kw, d, cout = kernel.shape
        o = cout // groups
        mask = np.kron(np.eye(s, dtype=np.float32), np.ones((d, o), np.float32))
        outs = []
        for part, k in zip(
            tf.split(x, groups // s, axis=-1), tf.split(kernel, groups // s, axis=-1)
        ):
            # k [kh, kw, d, s * o] -> block-diagonal [kh, kw, s * d, s * o]
            dense = tf.tile(k, [1, 1, s, 1]) * mask
            outs.append(conv(part, dense, stride))
        return tf.concat(outs, axis=-1)

    return fn


WAYS = {"split": split, "depthwise": depthwise, **{f"blocks {s}": blocks(s) for s in (2, 4, 8)}}


def step_fn(way, stride):
    @tf.function
    def step(x, kernel):
        with tf.GradientTape() as tape:
            tape.watch([x, kernel])
            y = WAYS[way](x, kernel, stride, GROUPS)
            loss = tf.reduce_sum(y * y)
        return loss, tape.gradient(loss, [x, kernel])

    return step


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    cases = []
    for width, side, stride, count in LAYERS:
        x = tf.constant(rng.standard_normal((args.batch, side, side, width)), tf.float32)
        k = tf.constant(rng.standard_normal((3, 3, width // GROUPS, width)) * 0.1, tf.float32)
        steps = {way: step_fn(way, stride) for way in WAYS}
        ref = steps["split"](x, k)
        for way, step in steps.items():  # the same numbers, then warm
            out = step(x, k)
            for a, b in zip(tf.nest.flatten(ref), tf.nest.flatten(out)):
                scale = float(tf.reduce_max(tf.abs(a)))
                assert float(tf.reduce_max(tf.abs(a - b))) <= 1e-3 * scale, (way, width)
        cases.append((count, x, k, steps))
    times = {way: [] for way in WAYS}
    for _ in range(args.rounds):
        for way in WAYS:
            total = 0.0
            for count, x, k, steps in cases:
                runs = []
                for _ in range(args.reps):
                    start = time.perf_counter()
                    steps[way](x, k)[0].numpy()
                    runs.append(time.perf_counter() - start)
                total += count * statistics.median(runs)
            times[way].append(total)
    print(f"\nbatch {args.batch}, {os.cpu_count()} CPUs, best of {args.rounds} rounds\n")
    print("| way | grouped 3x3 layers of a ResNeXt-50 step (s) | vs split |")
    print("|---|---:|---:|")
    base = min(times["split"])
    for way, t in times.items():
        print(f"| {way} | {min(t):.3f} | {min(t) / base:.2f} |")


if __name__ == "__main__":
    main()
