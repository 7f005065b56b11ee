"""Multi-scale features: every network's stage outputs named by their reduction, P1 ... P5.

A feature level Pk is the last tensor of the body whose reduction (the product of the strides
from the input) is 2**k and that every path to the output passes through: a stage's output, not
a branch inside an Inception module or a residual block. That is keras-hub's
`pyramid_outputs` naming (P2 ... P5, reduction 2**k) with timm's choice of tensor (the last
feature map before each downsampling, e.g. ResNet's conv1 ReLU before the max pool, VGG's last
conv of a block before its pool; timm.models.FeatureInfo). Found from the graph, not listed per
family, so that a new family has its levels without a table, and docs/features.md lists what
they are in each paper's terms (ResNet's conv1, conv2_x ... conv5_x; Inception's grids).
"""

import dataclasses

import keras

from keras_classics.layers import Interp

# Layers whose output is never a feature level: the padding is the same map, bordered.
_PADDING = (keras.layers.ZeroPadding2D,)
LEVELS = 5  # P1 ... P5: reductions 2 ... 32, the classic networks' strides


@dataclasses.dataclass(frozen=True)
class FeatureInfo:
    """One feature level: `name` "Pk", the `layer` whose output it is, `channels`, and
    `reduction` = 2**k (timm's feature_info: num_chs, reduction, module)."""

    name: str
    layer: str
    channels: int
    reduction: int


def _nodes(model):
    """(layer, input tensors, output tensors) in topological order, the model's only call of
    each layer (the builders call each layer once); a layer may return several tensors
    (ChannelSplit's parts)."""
    nodes = []
    for layer in model.layers:
        node = layer._inbound_nodes[0]
        nodes.append((layer, list(node.input_tensors), list(node.output_tensors)))
    return nodes


def _stride(layer):
    strides = getattr(layer, "strides", None)
    return int(strides[0]) if strides is not None else 1


def levels(model):
    """The feature levels of `model`'s main output path, as [FeatureInfo], P1 first.

    A model's first output is followed; auxiliary classifiers (aux_logits=True) are side
    branches and do not count as paths.
    """
    nodes = _nodes(model)
    position = {id(t): i for i, (_, _, outputs) in enumerate(nodes) for t in outputs}
    position.update({id(t): -1 for t in model.inputs})
    # The layers the main output depends on: walking back from it.
    needed, stack = set(), [model.outputs[0]]
    while stack:
        i = position[id(stack.pop())]
        if i >= 0 and i not in needed:
            needed.add(i)
            stack.extend(nodes[i][1])
    reduction = {id(t): 1 for t in model.inputs}
    # reads_after[k]: the furthest needed layer that reads layer k's output. Layer i's output
    # lies on every path to the output exactly when no edge jumps over it: no layer before i
    # is read after i.
    reads_after = [-1] * len(nodes)
    for j in sorted(needed):
        layer, inputs, outputs = nodes[j]
        # A resize to another tensor's size (Interp, the Residual Attention masks' up-sampling)
        # has that tensor's reduction.
        sources = inputs[-1:] if isinstance(layer, Interp) else inputs
        for output in outputs:
            reduction[id(output)] = _stride(layer) * max(reduction[id(t)] for t in sources)
        for t in inputs:
            k = position[id(t)]
            if k >= 0:
                reads_after[k] = max(reads_after[k], j)
    best, jump = {}, -1
    for i in sorted(needed):
        layer, _, outputs = nodes[i]
        output = outputs[0]
        r = reduction[id(output)]
        # A layer of several outputs splits the map: its parts are no level.
        single = len(outputs) == 1 and len(output.shape) == 4
        if jump <= i and single and not isinstance(layer, _PADDING):
            if r in _REDUCTIONS:  # the last one at each reduction wins
                best[r] = FeatureInfo(f"P{_REDUCTIONS[r]}", layer.name, int(output.shape[-1]), r)
        jump = max(jump, reads_after[i])
    return [best[r] for r in sorted(best)]


_REDUCTIONS = {2**k: k for k in range(1, LEVELS + 1)}


def feature_info(model):
    """The feature levels of a keras_classics model, as [FeatureInfo] (name, layer, channels,
    reduction), P1 first: for a features_only model its outputs, for any other model every
    level its body has (which features_only=True, out_indices=None returns).

    Example:
      >>> [(f.name, f.channels, f.reduction) for f in feature_info(ResNet50())]
      [('P1', 64, 2), ('P2', 256, 4), ('P3', 512, 8), ('P4', 1024, 16), ('P5', 2048, 32)]
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"model={model!r} is invalid; accepted: a keras.Model.")
    chosen = getattr(model, "out_levels", None)
    found = levels(model) if chosen is None else list(chosen)
    return found


def check_out_indices(out_indices, found, model_name):
    """timm's out_indices: positions in the model's levels `found` (negative from the end);
    None for all. Returns the chosen FeatureInfo, in level order."""
    names = [f.name for f in found]
    accepted = (
        f"None (all of {names}) or distinct integers in [-{len(found)}, {len(found)}) "
        f"indexing {model_name}'s levels {names} (timm's out_indices)"
    )
    if out_indices is None:
        return list(found)
    if (
        not isinstance(out_indices, (tuple, list))
        or not out_indices
        or any(isinstance(i, bool) or not isinstance(i, int) for i in out_indices)
        or any(not -len(found) <= i < len(found) for i in out_indices)
        or len({i % len(found) for i in out_indices}) != len(out_indices)
    ):
        raise ValueError(f"out_indices={out_indices!r} is invalid; accepted: {accepted}.")
    return [found[i] for i in sorted(i % len(found) for i in out_indices)]


def features_model(model, out_indices=None, name=None):
    """A model on `model`'s input whose outputs are {"Pk": its level k}, the same layers (and
    so the same weights); layers after the deepest chosen level are left out."""
    chosen = check_out_indices(out_indices, levels(model), model.name)
    outputs = {f.name: model.get_layer(f.layer).output for f in chosen}
    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    features = keras.Model(inputs, outputs, name=name or model.name)
    object.__setattr__(features, "out_levels", tuple(chosen))
    return features
