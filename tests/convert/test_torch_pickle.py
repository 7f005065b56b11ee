"""torch_pickle reads torch.save files with NumPy as torch.load does, and runs nothing in them."""

import collections
import io
import os
import pathlib
import pickle
import struct
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from convert_parity import TORCH_INSTALL, block_triton
from keras_classics import convert
from keras_classics.weights.torch_pickle import read_state_dict

block_triton()
torch = pytest.importorskip("torch", reason=f"these tests compare with torch.load: {TORCH_INSTALL}")

REPO = pathlib.Path(__file__).resolve().parents[2]
FORMATS = ["zip", "legacy"]
# The dtypes read_state_dict documents: torch's own, except bfloat16 (no NumPy type).
DTYPES = {
    torch.float32: np.float32,
    torch.float16: np.float16,
    torch.bfloat16: np.float32,
    torch.float64: np.float64,
    torch.int64: np.int64,
    torch.int8: np.int8,
    torch.uint8: np.uint8,
    torch.bool: np.bool_,
    torch.uint16: np.uint16,
    torch.complex64: np.complex64,
}


def save(obj, path, fmt, **kwargs):
    torch.save(obj, path, _use_new_zipfile_serialization=fmt == "zip", **kwargs)
    return path


def expected(tensor):
    """torch's tensor as the reader should give it."""
    if tensor.dtype == torch.bfloat16:
        return tensor.float().numpy()
    return tensor.resolve_conj().resolve_neg().numpy()


def assert_same(ours, loaded):
    assert list(ours) == list(loaded)  # file order kept
    for key, tensor in loaded.items():
        array = ours[key]
        assert isinstance(array, np.ndarray), key
        assert array.dtype == DTYPES[tensor.dtype], (key, array.dtype, tensor.dtype)
        assert array.shape == tuple(tensor.shape), (key, array.shape)
        np.testing.assert_array_equal(array, expected(tensor), err_msg=key)


def mixed_state():
    torch.manual_seed(0)
    base = torch.randn(4, 6)
    state = collections.OrderedDict(
        f32=torch.randn(3, 4),
        f16=torch.randn(5).half(),
        bf16=(torch.randn(7) * 1e3).bfloat16(),
        f64=torch.randn(2, 2, dtype=torch.float64),
        num_batches_tracked=torch.tensor(12345678901),
        mask=torch.tensor([True, False, True]),
        i8=torch.tensor([-128, 5, 127], dtype=torch.int8),
        u8=torch.tensor([0, 200, 255], dtype=torch.uint8),
        scalar=torch.tensor(2.5),
        transposed=torch.randn(3, 5).t(),  # non-contiguous
        window=base[1:, 2:4],  # storage offset 8, strides (6, 1)
        base=base,  # shares the storage of window and row
        row=base[2],
        empty=torch.empty(0, 3),
    )
    assert state["window"].storage_offset() == 8 and not state["transposed"].is_contiguous()
    assert state["window"].untyped_storage().data_ptr() == base.untyped_storage().data_ptr()
    return state


@pytest.mark.parametrize("fmt", FORMATS)
def test_dtypes_and_layouts_match_torch_load(tmp_path, fmt):
    path = save(mixed_state(), tmp_path / f"mixed-{fmt}.pth", fmt)
    loaded = torch.load(path, weights_only=True)
    ours = read_state_dict(path)
    assert type(ours) is dict
    assert_same(ours, loaded)
    assert ours["num_batches_tracked"].shape == () and ours["num_batches_tracked"] == 12345678901


def test_v3_dtypes_and_lazy_bits(tmp_path):
    """uint16 is saved as an UntypedStorage plus a dtype global (_rebuild_tensor_v3); a conj
    or neg view as the plain data plus a metadata flag."""
    state = {
        "u16": torch.tensor([1, 65535, 7], dtype=torch.int32).to(torch.uint16),
        "conj": torch.tensor([1 + 2j, -3j]).conj(),
        "neg": torch._neg_view(torch.tensor([1.0, -2.0])),
    }
    buffer = io.BytesIO()
    torch.save(state, buffer)
    with zipfile.ZipFile(buffer) as archive:
        pkl = archive.read("archive/data.pkl")
    assert b"_rebuild_tensor_v3" in pkl and b"UntypedStorage" in pkl  # the path under test
    path = tmp_path / "v3.pth"
    path.write_bytes(buffer.getvalue())
    assert_same(read_state_dict(path), torch.load(path, weights_only=True))


def test_big_endian_byteorder_record(tmp_path):
    """A file written on a big-endian machine: byteorder "big", the storages' bytes swapped."""
    state = {"w": torch.randn(3, 4), "n": torch.tensor([1, -2, 3]), "h": torch.randn(2).half()}
    little = tmp_path / "little.pth"
    torch.save(state, little)
    itemsize = {"0": 4, "1": 8, "2": 2}  # storage keys in the order torch met the tensors
    big = tmp_path / "big.pth"
    with zipfile.ZipFile(little) as src, zipfile.ZipFile(big, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            if name.endswith("/byteorder"):
                data = b"big"
            elif "/data/" in name:
                size = itemsize[name.rsplit("/", 1)[1]]
                data = np.frombuffer(data, f"<u{size}").astype(f">u{size}").tobytes()
            dst.writestr(name, data)
    ours = read_state_dict(big)
    assert all(array.dtype.isnative for array in ours.values())
    assert_same(ours, state)


@pytest.mark.parametrize("fmt", FORMATS)
def test_resnet18_state_dict_matches_torch_load(tmp_path, fmt):
    torchvision = pytest.importorskip("torchvision", reason=f"needs torchvision: {TORCH_INSTALL}")
    torch.manual_seed(0)
    path = save(torchvision.models.resnet18(weights=None).state_dict(), tmp_path / "r18.pth", fmt)
    loaded = torch.load(path, weights_only=True)
    ours = read_state_dict(path)
    assert len(ours) == 122
    assert_same(ours, loaded)


def test_training_checkpoint_through_read_checkpoint(tmp_path):
    state = mixed_state()
    del state["bf16"], state["f16"], state["f64"]  # read_checkpoint makes floats float32
    wrapped = {"state_dict": {f"module.{k}": v for k, v in state.items()}, "epoch": 3}
    path = save(wrapped, tmp_path / "train.pth", "zip")
    ours = convert.read_checkpoint(path)
    assert_same(ours, state)  # unwrapped, DataParallel prefix dropped


def test_non_mapping_is_refused(tmp_path):
    path = save([torch.ones(2)], tmp_path / "list.pth", "zip")
    np.testing.assert_array_equal(read_state_dict(path)[0], [1.0, 1.0])
    with pytest.raises(ValueError, match="holds a list; accepted: a state dict"):
        convert.read_checkpoint(path)


class Payload:
    """Unpickled by plain pickle, it runs a shell command."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_pickled_call_is_refused_and_not_run(tmp_path, fmt):
    marker = tmp_path / "ran"
    state = {"w": torch.ones(2), "payload": Payload(marker)}
    path = save(state, tmp_path / f"evil-{fmt}.pth", fmt, pickle_protocol=2)
    name = f"{os.system.__module__}.{os.system.__name__}"  # posix.system
    with pytest.raises(ValueError, match=f"refers to the Python global {name}") as info:
        read_state_dict(path)
    assert str(path) in str(info.value) and "Accepted: collections.OrderedDict" in str(info.value)
    with pytest.raises(ValueError, match=name):
        convert.read_checkpoint(path)
    assert not marker.exists()
    torch.load(path, weights_only=False)  # the file is a real exploit: torch's full unpickler
    assert marker.exists()


def test_a_handcrafted_eval_is_refused_and_not_run(tmp_path):
    marker = tmp_path / "ran"
    code = f"__import__('pathlib').Path({str(marker)!r}).touch()".encode()
    # PROTO 2, GLOBAL builtins.eval, BINUNICODE code, TUPLE1, REDUCE, STOP
    pkl = b"\x80\x02cbuiltins\neval\nX" + struct.pack("<I", len(code)) + code + b"\x85R."
    path = tmp_path / "eval.pth"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", pkl)
        archive.writestr("archive/byteorder", "little")
        archive.writestr("archive/version", "3\n")
    with pytest.raises(ValueError, match=r"refers to the Python global builtins\.eval"):
        read_state_dict(path)
    assert not marker.exists()
    pickle.loads(pkl)  # what an unrestricted unpickler does with it
    assert marker.exists()


def test_reads_with_torch_blocked(tmp_path):
    """In a process where `import torch` fails, both formats read as torch.load reads them."""
    state = mixed_state()
    paths = {fmt: save(state, tmp_path / f"{fmt}.pth", fmt) for fmt in FORMATS}
    script = (
        "import sys; sys.modules['torch'] = None\n"
        "import numpy as np\n"
        "from keras_classics.convert import read_checkpoint\n"
        "from keras_classics.weights.torch_pickle import read_state_dict\n"
        "for path in sys.argv[1:]:\n"
        "    np.savez(path + '.npz', **read_state_dict(path))\n"
        "    np.savez(path + '.checkpoint.npz', **read_checkpoint(path))\n"
        "assert sys.modules['torch'] is None\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]),
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    result = subprocess.run(
        [sys.executable, "-c", script, *map(str, paths.values())],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for path in paths.values():
        loaded = torch.load(path, weights_only=True)
        with np.load(f"{path}.npz") as ours:
            assert_same(dict(ours), loaded)
        with np.load(f"{path}.checkpoint.npz") as ours:
            assert list(ours) == list(loaded)
            for key, tensor in loaded.items():  # read_checkpoint: floats as float32
                want = expected(tensor)
                want = want.astype(np.float32) if want.dtype.kind == "f" else want
                assert ours[key].dtype == want.dtype, key
                np.testing.assert_array_equal(ours[key], want, err_msg=key)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("keep", [0.5, 0.95])
def test_truncated_files(tmp_path, fmt, keep):
    whole = save(mixed_state(), tmp_path / "whole.pth", fmt).read_bytes()
    path = tmp_path / "cut.pth"
    path.write_bytes(whole[: int(len(whole) * keep)])
    with pytest.raises(ValueError, match=f"checkpoint={str(path)!r} could not be read"):
        read_state_dict(path)


def test_files_that_are_not_checkpoints(tmp_path):
    text = tmp_path / "notes.pth"
    text.write_text("weights: see the README\n" * 10)
    empty = tmp_path / "empty.pt"
    empty.write_bytes(b"")
    other_pickle = tmp_path / "ints.bin"
    other_pickle.write_bytes(pickle.dumps([1, 2, 3], protocol=2))
    for path in (text, empty, other_pickle):
        with pytest.raises(ValueError, match=f"checkpoint={str(path)!r} could not be read"):
            convert.read_checkpoint(path)
