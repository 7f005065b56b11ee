"""Reading a source checkpoint into one flat mapping: parameter name -> float32 NumPy array.

Formats, by file name:
  .pth / .pt / .bin   a PyTorch state dict (torch.save's zip or legacy format), read with
                      NumPy by torch_pickle: no torch needed, and no code in the file runs (a
                      pickle global beyond tensors and OrderedDict is refused). A training
                      checkpoint {"state_dict": ...} or {"model": ...} is unwrapped, and a
                      DataParallel "module." prefix dropped.
  .safetensors        read with safetensors.numpy: no torch needed.
  .h5 / .weights.h5   Keras weights: the legacy HDF5 layout keras.applications publishes
                      ("layer_names" / "weight_names" attributes, also inside a full-model file's
                      "model_weights" group) and Keras 3's .weights.h5 ("layers/.../vars/i").
                      Names become "layer/variable", e.g. "conv1_conv/kernel".
An in-memory mapping (a torch state_dict, NumPy arrays) or a keras.Model is taken as it is.
"""

import os
from collections.abc import Mapping

import numpy as np

from keras_classics.weights.torch_pickle import read_state_dict

TORCH_SUFFIXES = (".pth", ".pt", ".bin")
SAFETENSORS_SUFFIXES = (".safetensors",)
H5_SUFFIXES = (".h5", ".hdf5")
# Keras 3 .weights.h5 stores each layer's variables by position; names in the order every
# Keras layer creates them (Conv2D/Dense: kernel, bias; BatchNormalization: gamma, beta,
# moving_mean, moving_variance), chosen by how many a layer has. Three are a BN with
# scale=False, as in keras.applications' Inception nets.
KERAS_VARIABLE_NAMES = {
    1: ("kernel",),
    2: ("kernel", "bias"),
    3: ("beta", "moving_mean", "moving_variance"),
    4: ("gamma", "beta", "moving_mean", "moving_variance"),
}
KNOWN_VARIABLES = {n for names in KERAS_VARIABLE_NAMES.values() for n in names}
_WRAPPER_KEYS = ("state_dict", "model")


def read_checkpoint(checkpoint):
    """`checkpoint` as {parameter name: np.ndarray} (floats as float32, in file order).

    Args:
      checkpoint: a path (str or os.PathLike) to a .pth/.pt/.bin, .safetensors or .h5 file,
        a mapping from names to arrays or tensors, or a keras.Model.
    Raises:
      ValueError: unknown suffix, missing file, a file that holds no parameters, or a
        PyTorch file that is corrupted or pickles more than a state dict.
      TypeError: `checkpoint` of another type.
    """
    if _is_keras_model(checkpoint):
        return _from_keras_model(checkpoint)
    if isinstance(checkpoint, Mapping):
        return _from_mapping(checkpoint, "the checkpoint mapping")
    if not isinstance(checkpoint, (str, os.PathLike)):
        raise TypeError(
            f"checkpoint={checkpoint!r} is invalid; accepted: a path to a "
            f"{'/'.join(TORCH_SUFFIXES + SAFETENSORS_SUFFIXES + H5_SUFFIXES)} "
            "file, a mapping from parameter names to arrays, or a keras.Model."
        )
    path = os.fspath(checkpoint)
    if not os.path.isfile(path):
        raise ValueError(
            f"checkpoint={path!r} does not exist; accepted: the path to an "
            "existing checkpoint file."
        )
    lower = path.lower()
    if lower.endswith(TORCH_SUFFIXES):
        return _read_torch(path)
    if lower.endswith(SAFETENSORS_SUFFIXES):
        return _read_safetensors(path)
    if lower.endswith(H5_SUFFIXES):
        return _read_h5(path)
    raise ValueError(
        f"checkpoint={path!r} has an unknown suffix; accepted: "
        f"{', '.join(TORCH_SUFFIXES + SAFETENSORS_SUFFIXES + H5_SUFFIXES)}."
    )


def to_numpy(value):
    """A torch tensor or array-like as a NumPy array; floating point becomes float32."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch.Tensor, without torch
        value = value.detach().cpu()
        if value.is_floating_point():
            value = value.float()  # also bfloat16, which NumPy has no type for
        value = value.numpy()
    array = np.asarray(value)
    return array.astype(np.float32) if np.issubdtype(array.dtype, np.floating) else array


def _from_mapping(mapping, what):
    mapping = _unwrap(mapping)
    state = {}
    for key, value in mapping.items():
        if not isinstance(key, str):
            raise TypeError(
                f"{what} has a key {key!r} of type {type(key).__name__}; "
                "accepted: parameter names (str)."
            )
        state[key] = to_numpy(value)
    if not state:
        raise ValueError(f"{what} holds no parameters.")
    if all(k.startswith("module.") for k in state):  # saved from nn.DataParallel
        state = {k[len("module.") :]: v for k, v in state.items()}
    return state


def _unwrap(mapping):
    """A training checkpoint keeps the state dict under "state_dict" or "model"."""
    for key in _WRAPPER_KEYS:
        inner = mapping.get(key) if hasattr(mapping, "get") else None
        if isinstance(inner, Mapping) and not _looks_like_array(inner):
            return inner
    return mapping


def _looks_like_array(value):
    return hasattr(value, "shape")


def _read_torch(path):
    state = read_state_dict(path)  # raises ValueError naming the path
    if not isinstance(state, Mapping):
        raise ValueError(
            f"checkpoint={path!r} holds a {type(state).__name__}; accepted: a "
            "state dict (torch.save(model.state_dict(), path))."
        )
    return _from_mapping(state, f"checkpoint={path!r}")


def _read_safetensors(path):
    try:
        from safetensors.numpy import load_file
    except ImportError as err:
        raise ImportError(
            f"checkpoint={path!r} is a safetensors file, and reading it needs "
            "the safetensors package: `pip install safetensors`."
        ) from err
    try:
        state = load_file(path)
    except Exception as err:  # safetensors raises its own SafetensorError
        raise ValueError(
            f"checkpoint={path!r} could not be read as safetensors: {err}. "
            "(bfloat16 files need torch: load them with torch and pass the "
            "state dict.)"
        ) from err
    return _from_mapping(state, f"checkpoint={path!r}")


def _read_h5(path):
    import h5py

    with h5py.File(path, "r") as f:
        if "layers" in f and "layer_names" not in f.attrs:
            state = _read_keras3_h5(f["layers"])
        else:
            root = f["model_weights"] if "model_weights" in f else f
            state = _read_legacy_h5(root)
    if not state:
        raise ValueError(
            f"checkpoint={path!r} holds no Keras layer weights; accepted: a "
            "Keras weights file (model.save_weights, or keras.applications' "
            "*_weights_tf_dim_ordering_tf_kernels*.h5)."
        )
    return state


def _read_legacy_h5(root):
    """keras.applications' published files: weight_names like "conv1_conv/kernel:0"."""
    state = {}
    for layer in root.attrs.get("layer_names", ()):
        layer = _text(layer)
        group = root[layer]
        weights = [_text(w) for w in group.attrs.get("weight_names", ())]
        names = [w.split("/")[-1].split(":")[0] for w in weights]
        if not set(names) <= KNOWN_VARIABLES:  # Keras 1 style "conv1_W_1:0": by position
            names = _positional_names(len(weights))
        for weight, variable in zip(weights, names):
            state[f"{layer}/{variable}"] = to_numpy(group[weight][()])
    return state


def _positional_names(count):
    return KERAS_VARIABLE_NAMES.get(count, tuple(map(str, range(count))))


def _read_keras3_h5(layers):
    """model.save_weights: layers/<path>/vars/<i>, the layer name in the vars group's "name"."""
    import h5py

    state = {}

    def visit(_, node):
        if isinstance(node, h5py.Group) and node.name.endswith("/vars") and len(node):
            layer = _text(node.attrs.get("name", node.parent.name.split("/")[-1]))
            count = len(node)
            names = _positional_names(count)
            for i, variable in enumerate(names):
                state[f"{layer}/{variable}"] = to_numpy(node[str(i)][()])

    layers.visititems(visit)
    return state


def _from_keras_model(model):
    state = {}
    for layer in model.layers:
        for variable in layer.weights:
            state[f"{layer.name}/{variable.name}"] = to_numpy(variable.numpy())
    return state


def _is_keras_model(value):
    try:
        import keras
    except ImportError:  # pragma: no cover - keras is a dependency
        return False
    return isinstance(value, keras.Model)


def _text(value):
    return value.decode("utf8") if isinstance(value, bytes) else str(value)
