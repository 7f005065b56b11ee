"""Reading PyTorch checkpoints (torch.save files) with NumPy only: no torch, and no code run.

torch.save pickles the object (a state dict: an OrderedDict of tensors) with each tensor's
storage, its flat buffer, replaced by a persistent id ("storage", storage type, key, location,
numel); the storages' bytes are written outside the pickle. Two layouts hold them:

  zip (the default since torch 1.6): a zip archive, every entry under one folder
      <archive>/data.pkl     the pickle
      <archive>/data/<key>   each storage's raw bytes, uncompressed
      <archive>/byteorder    "little" or "big" (files without it are little-endian)
      (and .format_version, .storage_alignment, version, .data/serialization_id, unused here)
  legacy (_use_new_zipfile_serialization=False; older torchvision files): a stream of pickles,
      the magic number 0x1950A86A20F9469CFC6C, the protocol version 1001, a sys-info dict,
      the object (its persistent ids have a sixth item: a view of the storage, or None),
      the sorted list of storage keys, then for each key in that order an 8-byte
      little-endian element count and the storage's bytes (always little-endian).

In the pickle a tensor is a call of torch._utils._rebuild_tensor_v2(storage, offset, shape,
stride, requires_grad, hooks, metadata) with the storage type a global such as
torch.FloatStorage; dtypes without a storage type (uint16/32/64) use _rebuild_tensor_v3 with a
torch.storage.UntypedStorage and the dtype as a global (torch.uint16). The hooks are an empty
collections.OrderedDict. The unpickler here resolves only those globals, each to a stand-in of
its own (a tensor becomes a record of where its elements are); any other global (os.system,
builtins.eval, a model class) is refused with a ValueError before anything is called. The
records become NumPy arrays once the storages are read, each storage once.
"""

import collections
import io
import os
import pickle
import sys
import zipfile
from collections.abc import Mapping

import numpy as np

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001
_ZIP_MAGIC = b"PK\x03\x04"
_NATIVE_ORDER = "<" if sys.byteorder == "little" else ">"
_CHUNK = 16 << 20  # bytes copied at a time out of a zip entry

# torch's dtype names -> NumPy's. bfloat16 is read as its uint16 bits and widened to float32.
_DTYPES = {
    "float64": "float64",
    "float32": "float32",
    "float16": "float16",
    "bfloat16": "uint16",
    "complex128": "complex128",
    "complex64": "complex64",
    "int64": "int64",
    "int32": "int32",
    "int16": "int16",
    "int8": "int8",
    "uint64": "uint64",
    "uint32": "uint32",
    "uint16": "uint16",
    "uint8": "uint8",
    "bool": "bool",
}
# torch.<Name>Storage (torch.cuda.<Name>Storage in files saved from a GPU) -> its dtype
_STORAGE_TYPES = {
    "DoubleStorage": "float64",
    "FloatStorage": "float32",
    "HalfStorage": "float16",
    "BFloat16Storage": "bfloat16",
    "ComplexDoubleStorage": "complex128",
    "ComplexFloatStorage": "complex64",
    "LongStorage": "int64",
    "IntStorage": "int32",
    "ShortStorage": "int16",
    "CharStorage": "int8",
    "ByteStorage": "uint8",
    "BoolStorage": "bool",
}


def read_state_dict(path):
    """The object torch.save wrote to `path`, every tensor as a NumPy array.

    A state dict comes back as {name: np.ndarray} in file order; a training checkpoint as the
    dicts, lists and plain values it holds. Arrays keep their dtype except bfloat16, which
    becomes float32; they are in native byte order. Nothing in the file is executed.

    Raises:
      ValueError: the file is not a torch.save file, is truncated or corrupted, or refers to
        a Python global that a state dict does not need (the message names it).
    """
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            if f.read(4) == _ZIP_MAGIC:
                return _read_zip(path, f)
            f.seek(0)
            return _read_legacy(path, f)
    except _RefusedGlobalError:
        raise
    except OSError:
        raise
    except Exception as err:  # a corrupted pickle or zip fails in many ways
        raise ValueError(
            f"checkpoint={path!r} could not be read as a PyTorch checkpoint (torch.save file): "
            f"{type(err).__name__}: {err}"
        ) from err


class _RefusedGlobalError(ValueError):
    """A global outside the accepted ones; passed on as it is, not as a corrupted file."""


def _read_zip(path, f):
    with zipfile.ZipFile(f) as archive:
        pickles = [n for n in archive.namelist() if n.count("/") == 1 and n.endswith("/data.pkl")]
        if len(pickles) != 1:
            raise ValueError(f"expected one <archive>/data.pkl entry, found {len(pickles)}")
        prefix = pickles[0][: -len("data.pkl")]
        unpickler = _Unpickler(io.BytesIO(archive.read(pickles[0])), path, legacy=False)
        obj = unpickler.load()
        order = "little"  # torch's default for files without the record
        if prefix + "byteorder" in archive.namelist():
            order = archive.read(prefix + "byteorder").decode()
        if order not in ("little", "big"):
            raise ValueError(f"byteorder {order!r}; accepted: little, big")

        def storages(needed):
            for key in needed:
                yield key, _read_entry(archive, f"{prefix}data/{key}", unpickler.nbytes(key))

        return _resolve(obj, unpickler, storages, "<" if order == "little" else ">")


def _read_entry(archive, name, nbytes):
    info = archive.getinfo(name)
    if info.file_size != nbytes:
        raise ValueError(f"{name} holds {info.file_size} bytes; its storage needs {nbytes}")
    buffer = bytearray(nbytes)  # filled in chunks: no second copy of a large storage
    view, done = memoryview(buffer), 0
    with archive.open(info) as entry:
        while done < nbytes:
            count = entry.readinto(view[done : done + _CHUNK])
            if not count:
                raise EOFError(f"{name} ends after {done} of {nbytes} bytes")
            done += count
    return buffer


def _read_legacy(path, f):
    def load():
        return _Unpickler(f, path, legacy=True).load()

    if load() != _LEGACY_MAGIC:
        raise ValueError("neither a zip archive nor a legacy torch.save file (no magic number)")
    if (protocol := load()) != _LEGACY_PROTOCOL:
        raise ValueError(f"legacy protocol version {protocol!r}; accepted: {_LEGACY_PROTOCOL}")
    load()  # sys info: byte order and C type sizes of the writer; the data is little-endian
    unpickler = _Unpickler(f, path, legacy=True)
    obj = unpickler.load()
    keys = load()
    if not isinstance(keys, list) or set(keys) != set(unpickler.storage_dtypes):
        raise ValueError("the list of storage keys does not match the storages in the pickle")

    def storages(needed):
        needed = set(needed)
        for key in keys:  # the bytes follow in the list's order
            nbytes = unpickler.nbytes(key)
            count = int.from_bytes(_read_exactly(f, 8), "little")
            if count * unpickler.itemsize(key) != nbytes:
                raise ValueError(f"storage {key!r} holds {count} elements; the pickle says other")
            if key in needed:
                buffer = bytearray(nbytes)
                if f.readinto(buffer) != nbytes:
                    raise EOFError(f"storage {key!r} is cut short")
                yield key, buffer
                del buffer  # not held while the next one is read
            else:
                f.seek(nbytes, io.SEEK_CUR)

    return _resolve(obj, unpickler, storages, "<")


def _read_exactly(f, count):
    data = f.read(count)
    if len(data) != count:
        raise EOFError(f"the file ends {count - len(data)} bytes early")
    return data


class _StorageType:
    """torch.FloatStorage, ... (or UntypedStorage: bytes), named by the dtype they hold."""

    def __init__(self, dtype):
        self.dtype = dtype


class _DType:
    """A torch dtype global (torch.uint16): the dtype argument of _rebuild_tensor_v3."""

    def __init__(self, name):
        self.name = name


class _Storage:
    """A persistent id: `numel` elements of `dtype` at element `offset` of storage `key`."""

    def __init__(self, key, dtype, offset, numel):
        self.key, self.dtype, self.offset, self.numel = key, dtype, offset, numel


class _Tensor:
    """Where a tensor's elements are; an array once its storage is read."""

    def __init__(self, storage, offset, shape, stride, dtype=None, metadata=None):
        if not isinstance(storage, _Storage):
            raise ValueError(f"a tensor's storage is a {type(storage).__name__}")
        self.storage, self.offset, self.shape, self.stride = storage, offset, shape, stride
        self.dtype = storage.dtype if dtype is None else dtype.name
        self.metadata = metadata or {}


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, path, legacy):
        super().__init__(file, encoding="utf-8")  # as torch.load, for Python 2 strings
        self.path, self.legacy = path, legacy
        self.tensors = []
        self.storage_dtypes = {}  # storage key -> (dtype, numel) of the whole storage

    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict  # a state dict's type, and the tensors' empty hooks
        if module == "torch._utils" and name in _REBUILDERS:
            return getattr(self, _REBUILDERS[name])
        if module in ("torch", "torch.cuda") and name in _STORAGE_TYPES:
            return _StorageType(_STORAGE_TYPES[name])
        if (module, name) in (("torch", "UntypedStorage"), ("torch.storage", "UntypedStorage")):
            return _StorageType("uint8")
        if module == "torch" and name in _DTYPES:
            return _DType(name)
        raise _RefusedGlobalError(
            f"checkpoint={self.path!r} refers to the Python global {module}.{name}, which a "
            "state dict does not need; nothing was run. Accepted: collections.OrderedDict, "
            f"torch._utils.{{{', '.join(_REBUILDERS)}}}, torch.<type>Storage (torch.cuda too) "
            f"with <type> one of {', '.join(s[: -len('Storage')] for s in _STORAGE_TYPES)}, "
            "torch.storage.UntypedStorage, and the dtypes "
            f"torch.{{{', '.join(_DTYPES)}}}. (A file you trust that pickles more, e.g. a "
            "whole model, can be loaded with torch.load(weights_only=False) and its "
            "state_dict() saved.)"
        )

    def persistent_load(self, pid):
        if not isinstance(pid, tuple) or len(pid) != (6 if self.legacy else 5):
            raise ValueError(f"unknown persistent id {pid!r}")
        kind, storage_type, key, _location, numel, *view = pid
        if _text(kind) != "storage" or not isinstance(storage_type, _StorageType):
            raise ValueError(f"unknown persistent id {pid!r}")
        dtype, key = storage_type.dtype, _text(key)
        if not isinstance(key, str) or not _ints([numel]):
            raise ValueError(f"storage {key!r} has {numel!r} elements")
        if self.storage_dtypes.setdefault(key, (dtype, numel)) != (dtype, numel):
            raise ValueError(f"storage {key!r} is declared twice, differently")
        if view and view[0] is not None:  # legacy (view key, offset, numel) within the storage
            _view_key, offset, numel = view[0]
            if not (_ints([offset, numel]) and offset + numel <= self.storage_dtypes[key][1]):
                raise ValueError(f"a view outside storage {key!r}")
            return _Storage(key, dtype, offset, numel)
        return _Storage(key, dtype, 0, numel)

    def itemsize(self, key):
        return np.dtype(_DTYPES[self.storage_dtypes[key][0]]).itemsize

    def nbytes(self, key):
        return self.storage_dtypes[key][1] * self.itemsize(key)

    # Stand-ins for torch._utils' functions; arguments as torch passes them.
    def rebuild_tensor(self, storage, offset, shape, stride):
        self.tensors.append(_Tensor(storage, offset, shape, stride))
        return self.tensors[-1]

    def rebuild_tensor_v2(self, storage, offset, shape, stride, _grad, _hooks, metadata=None):
        self.tensors.append(_Tensor(storage, offset, shape, stride, metadata=metadata))
        return self.tensors[-1]

    def rebuild_tensor_v3(self, storage, offset, shape, stride, _grad, _hooks, dtype, meta=None):
        if not isinstance(dtype, _DType):
            raise ValueError(f"a tensor's dtype is a {type(dtype).__name__}")
        self.tensors.append(_Tensor(storage, offset, shape, stride, dtype, meta))
        return self.tensors[-1]

    def rebuild_parameter(self, data, _grad, _hooks, _state=None):
        return data  # an nn.Parameter's tensor


_REBUILDERS = {
    "_rebuild_tensor": "rebuild_tensor",
    "_rebuild_tensor_v2": "rebuild_tensor_v2",
    "_rebuild_tensor_v3": "rebuild_tensor_v3",
    "_rebuild_parameter": "rebuild_parameter",
    "_rebuild_parameter_with_state": "rebuild_parameter",
}


def _resolve(obj, unpickler, storages, order):
    """`obj` with its tensor records replaced by arrays; `storages(keys)` yields the buffers."""
    by_storage = collections.defaultdict(list)
    for tensor in unpickler.tensors:
        by_storage[tensor.storage.key].append(tensor)
    arrays = {}
    for key, buffer in storages(sorted(by_storage, key=_numeric_first)):
        for tensor in by_storage[key]:
            arrays[id(tensor)] = _array(tensor, buffer, unpickler.itemsize(key), order)
        del buffer  # kept only by the arrays that are views of it

    def replace(value):
        if isinstance(value, _Tensor):
            return arrays[id(value)]
        if isinstance(value, Mapping):
            return {k: replace(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(replace(v) for v in value)
        if isinstance(value, (_Storage, _StorageType, _DType)):
            raise ValueError(f"a {type(value).__name__[1:]} outside a tensor")
        return value

    return replace(obj)


def _numeric_first(key):
    return (0, int(key), "") if key.isdigit() else (1, 0, key)


def _array(tensor, buffer, storage_itemsize, order):
    """The tensor's elements out of its storage's bytes, checked to lie inside them."""
    dtype = np.dtype(_DTYPES[tensor.dtype])
    if order != _NATIVE_ORDER:
        dtype = dtype.newbyteorder(order)
    start = tensor.storage.offset * storage_itemsize
    count = tensor.storage.numel * storage_itemsize // dtype.itemsize
    shape, stride, offset = tensor.shape, tensor.stride, tensor.offset
    if not (
        _ints(shape)
        and _ints(stride)
        and len(shape) == len(stride)
        and _ints([offset])
        and (0 in shape or offset + sum((n - 1) * s for n, s in zip(shape, stride)) < count)
    ):
        raise ValueError(
            f"a tensor of shape {shape!r}, stride {stride!r}, offset {offset!r} reaches outside "
            f"its storage of {count} elements"
        )
    flat = np.frombuffer(buffer, dtype, count, start)
    if 0 in shape:
        array = np.zeros(shape, dtype)
    else:
        view = np.lib.stride_tricks.as_strided(
            flat[offset:], shape, [s * dtype.itemsize for s in stride], writeable=False
        )
        whole = offset == 0 and view.size == count and view.flags.c_contiguous
        array = flat.reshape(shape) if whole else view.copy()  # a view keeps the buffer alive
    if not array.dtype.isnative:
        array = array.astype(array.dtype.newbyteorder("="))
    if tensor.dtype == "bfloat16":  # its bits are a float32's upper half
        array = (array.astype(np.uint32) << 16).view(np.float32)
    if tensor.metadata.get("neg"):  # torch's lazy negation and conjugation bits
        array = -array
    if tensor.metadata.get("conj"):
        array = np.conj(array)
    return array


def _ints(values):
    # type() rather than isinstance: a bool is an int, but not a size
    return isinstance(values, (tuple, list)) and all(type(v) is int and v >= 0 for v in values)


def _text(value):
    return value.decode("ascii") if isinstance(value, bytes) else value
