"""Parameter and multiply-add counts per stage, as the papers report them.

Multiply-adds follow the papers' convention (ResNet Table 1 "FLOPs", VGG, Inception): those of
convolutions and fully connected layers only; BN, pooling, additions and activations are left
out. Every conv or dense layer holds a `kernel` whose shape already accounts for groups
((kh, kw, cin / groups, cout), a depthwise (kh, kw, cin, multiplier), or (din, dout)), so one
rule counts them all: kernel elements times output positions.
"""

import math
import re

import keras

_STAGE = re.compile(r"[a-z]+\d+[a-z]?|[a-z]+_[a-z]?\d+[a-z]?|[a-z]+(?:_[a-z]+)*(?=_|$)|[^_]+")


def stage_of(layer_name):
    """The stage a layer belongs to, from the naming rule: 'conv3_block2_1_conv' -> 'conv3',
    'inception_4a_1x1' -> 'inception_4a', 'fc6_drop' -> 'fc6', 'avg_pool' -> 'avg_pool'."""
    return _STAGE.match(layer_name).group(0)


def _output_shape(layer):
    out = layer.output
    return tuple((out[0] if isinstance(out, (list, tuple)) else out).shape)


def layer_macs(layer):
    """Multiply-adds of one forward pass of `layer` for one example."""
    kernel = getattr(layer, "kernel", None)
    counted = (keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.Dense)
    if kernel is None or not isinstance(layer, counted):
        return 0
    positions = math.prod(d for d in _output_shape(layer)[1:-1])
    return math.prod(kernel.shape) * positions


def count_macs(model):
    """Total multiply-adds of `model` (its input size fixed) for one example."""
    return sum(layer_macs(layer) for layer in model.layers)


def stage_table(model):
    """[(stage, output shape, parameters, multiply-adds)], consecutive layers grouped by stage."""
    rows = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        stage = stage_of(layer.name)
        params, macs = layer.count_params(), layer_macs(layer)
        if rows and rows[-1][0] == stage:
            _, _, p, m = rows[-1]
            rows[-1] = (stage, _output_shape(layer), p + params, m + macs)
        else:
            rows.append((stage, _output_shape(layer), params, macs))
    return rows


def text_table(rows, header, markdown):
    """`rows` under `header` as aligned text, or as a Markdown table."""
    rows = [header] + [[str(c) for c in r] for r in rows]
    if markdown:
        lines = ["| " + " | ".join(r) + " |" for r in rows]
        lines.insert(1, "|" + "|".join("---" for _ in header) + "|")
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)
