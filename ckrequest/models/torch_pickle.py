"""Read a PyTorch state dict without torch and without unrestricted pickle.

Both of torch.save's formats are understood: the legacy stream (magic number, protocol, sys
info, main pickle, storage keys, raw storages) and the zip archive (``<archive>/data.pkl`` plus
``<archive>/data/<key>``). The unpickler admits only an ordered dict, the tensor rebuild
functions and the plain storage types; everything else is refused before it is called.
"""

from __future__ import annotations

import _compat_pickle
import io
import pickle
import struct
import zipfile
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..errors import RequestError, UnsafePickleError

LEGACY_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL_VERSION = 1001
_REFUSE_FIX = ("ck-request loads plain state dicts only; "
               "re-save the weights with torch.save(model.state_dict())")
_CORRUPT_FIX = "download the weights again or reinstall the model package"


@dataclass(frozen=True)
class StorageType:
    """What a ``torch.<Name>Storage`` global stands for: its element type on disk."""

    name: str
    dtype: np.dtype

    @property
    def itemsize(self) -> int:
        return self.dtype.itemsize


_STORAGE_DTYPES = {
    "FloatStorage": "<f4",
    "DoubleStorage": "<f8",
    "HalfStorage": "<f2",
    "BFloat16Storage": "<u2",  # raw bits, widened to float32 when the tensor is built
    "LongStorage": "<i8",
    "IntStorage": "<i4",
    "ShortStorage": "<i2",
    "CharStorage": "i1",
    "ByteStorage": "u1",
    "BoolStorage": "?",
}
STORAGE_TYPES = {name: StorageType(name, np.dtype(code)) for name, code in _STORAGE_DTYPES.items()}


@dataclass
class Storage:
    """One storage named by a persistent id; its data arrives now (zip) or later (legacy)."""

    key: str
    kind: StorageType
    numel: int
    data: np.ndarray | None = None


@dataclass
class _StorageView(Storage):
    root: Storage | None = None
    start: int = 0


@dataclass(frozen=True)
class TensorRef:
    """A tensor as the pickle describes it, materialised once every storage is read."""

    storage: Storage
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]


def _int_tuple(value: Any, what: str) -> tuple[int, ...]:
    if not isinstance(value, (tuple, list)) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value):
        raise ValueError(f"tensor {what} {value!r} is not a tuple of non-negative integers")
    return tuple(value)


def _rebuild_tensor(storage: Any, storage_offset: Any, size: Any, stride: Any, *_: Any) -> TensorRef:
    if not isinstance(storage, Storage):
        raise TypeError("a tensor is rebuilt from something that is not a storage")
    if not isinstance(storage_offset, int) or storage_offset < 0:
        raise ValueError(f"tensor storage offset {storage_offset!r} is not a non-negative integer")
    size_t, stride_t = _int_tuple(size, "size"), _int_tuple(stride, "stride")
    if len(size_t) != len(stride_t):
        raise ValueError(f"tensor size {size_t} and stride {stride_t} differ in length")
    if all(size_t):
        last = storage_offset + sum((n - 1) * s for n, s in zip(size_t, stride_t))
        if last >= storage.numel:
            raise ValueError(f"tensor reaches element {last} of a storage of {storage.numel}")
    return TensorRef(storage, storage_offset, size_t, stride_t)


def _rebuild_parameter(data: Any, *_: Any) -> Any:
    return data


_ALLOWED_FUNCTIONS: dict[tuple[str, str], Callable[..., Any]] = {
    ("collections", "OrderedDict"): OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
}


def _python3_name(module: str, name: str) -> tuple[str, str]:
    """Protocol-2 pickles may carry Python 2 names (``__builtin__``); name what would be imported."""
    if (module, name) in _compat_pickle.NAME_MAPPING:
        return _compat_pickle.NAME_MAPPING[(module, name)]
    return _compat_pickle.IMPORT_MAPPING.get(module, module), name


class RestrictedUnpickler(pickle.Unpickler):
    """Admits ordered dicts, tensor rebuilds and storage types; refuses every other global."""

    def __init__(self, file: IO[bytes], origin: Path, storages: dict[str, Storage],
                 load_storage: Callable[[Storage], None] | None = None) -> None:
        super().__init__(file)
        self.origin = origin
        self.storages = storages
        self.load_storage = load_storage

    def find_class(self, module: str, name: str) -> Any:
        module, name = _python3_name(module, name)
        if (module, name) in _ALLOWED_FUNCTIONS:
            return _ALLOWED_FUNCTIONS[(module, name)]
        if module == "torch" and name in STORAGE_TYPES:
            return STORAGE_TYPES[name]
        raise UnsafePickleError(f"unsafe pickle in {self.origin}",
                                f"it asks for {module}.{name}, which is not a tensor or storage type",
                                _REFUSE_FIX)

    def persistent_load(self, pid: Any) -> Storage:
        if not (isinstance(pid, tuple) and len(pid) in (5, 6) and pid[0] == "storage"
                and isinstance(pid[1], StorageType) and isinstance(pid[2], str)
                and isinstance(pid[4], int) and not isinstance(pid[4], bool) and pid[4] >= 0):
            raise UnsafePickleError(f"unsafe pickle in {self.origin}",
                                    f"it refers to {_short_repr(pid)}, which is not a storage",
                                    _REFUSE_FIX)
        _, kind, key, _location, numel = pid[:5]
        storage = self.storages.get(key)
        if storage is None:
            storage = self.storages[key] = Storage(key, kind, numel)
            if self.load_storage is not None:
                self.load_storage(storage)
        elif storage.kind != kind or storage.numel != numel:
            raise ValueError(f"storage {key} is described twice, differently")
        view = pid[5] if len(pid) == 6 else None
        return storage if view is None else _view_of(storage, view)


def _view_of(root: Storage, view: Any) -> Storage:
    """A legacy storage view (view_key, offset, size) shares the root storage's data."""
    if not (isinstance(view, tuple) and len(view) == 3 and isinstance(view[1], int)
            and isinstance(view[2], int) and 0 <= view[1] and view[1] + view[2] <= root.numel):
        raise ValueError(f"storage view {_short_repr(view)} is not inside storage {root.key}")
    return _StorageView(f"{root.key}:{view[0]}", root.kind, view[2], root=root, start=view[1])


def _short_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _storage_array(storage: Storage) -> np.ndarray:
    if isinstance(storage, _StorageView) and storage.root is not None:
        return _storage_array(storage.root)[storage.start:storage.start + storage.numel]
    if storage.data is None:
        raise ValueError(f"storage {storage.key} has no data in the file")
    return storage.data


def _materialise(ref: TensorRef) -> np.ndarray:
    data = _storage_array(ref.storage)
    itemsize = data.dtype.itemsize
    view = as_strided(data[ref.offset:], shape=ref.size,
                      strides=tuple(s * itemsize for s in ref.stride), writeable=False)
    array = np.array(view, dtype=data.dtype.newbyteorder("="), order="C")
    if ref.storage.kind.name == "BFloat16Storage":
        widened = np.empty(array.shape, dtype=np.float32)
        widened.view(np.uint32)[...] = array.astype(np.uint32) << 16
        return widened
    return array


def _state_dict(obj: Any) -> OrderedDict[str, np.ndarray]:
    if not isinstance(obj, dict):
        raise TypeError(f"the pickle holds a {type(obj).__name__}, not a state dict")
    result: OrderedDict[str, np.ndarray] = OrderedDict()
    for name, value in obj.items():
        if not isinstance(name, str) or not isinstance(value, TensorRef):
            raise TypeError(f"entry {_short_repr(name)} is not a named tensor")
        result[name] = _materialise(value)
    return result


def _read_exact(handle: IO[bytes], count: int, remaining: int) -> bytes:
    if count > remaining:
        raise ValueError(f"a storage needs {count} bytes but only {remaining} are left")
    data = handle.read(count)
    if len(data) != count:
        raise ValueError("the file ends inside a storage")
    return data


def _load_legacy(path: Path, handle: IO[bytes]) -> Any:
    storages: dict[str, Storage] = {}

    def unpickle() -> Any:
        return RestrictedUnpickler(handle, path, storages).load()

    if unpickle() != LEGACY_MAGIC_NUMBER:
        raise ValueError("it is neither a zip archive nor a legacy torch.save stream")
    protocol = unpickle()
    if protocol != LEGACY_PROTOCOL_VERSION:
        raise ValueError(f"legacy protocol version {protocol!r} is not {LEGACY_PROTOCOL_VERSION}")
    sys_info = unpickle()
    if not isinstance(sys_info, dict) or sys_info.get("little_endian") is not True:
        raise ValueError("it was saved on a big-endian machine or has no system information")
    result = unpickle()
    keys = unpickle()
    if not isinstance(keys, list) or set(keys) != set(storages) or len(keys) != len(storages):
        raise ValueError("its list of storage keys does not match the storages the tensors use")
    size = path.stat().st_size
    for key in keys:
        storage = storages[key]
        (numel,) = struct.unpack("<q", _read_exact(handle, 8, size - handle.tell()))
        if numel != storage.numel:
            raise ValueError(f"storage {key} holds {numel} elements, the pickle says {storage.numel}")
        raw = _read_exact(handle, numel * storage.kind.itemsize, size - handle.tell())
        storage.data = np.frombuffer(raw, dtype=storage.kind.dtype)
    return result


def _load_zip(path: Path) -> Any:
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        pickles = [n for n in names if n.endswith("/data.pkl") and n.count("/") == 1]
        if len(pickles) != 1:
            raise ValueError("the archive has no single <name>/data.pkl")
        prefix = pickles[0][: -len("data.pkl")]
        byteorder = f"{prefix}byteorder"
        if byteorder in names and archive.read(byteorder).strip() != b"little":
            raise ValueError("it was saved big-endian")

        def load_storage(storage: Storage) -> None:
            member = f"{prefix}data/{storage.key}"
            if member not in names:
                raise ValueError(f"the archive has no {member}")
            raw = archive.read(member)
            expected = storage.numel * storage.kind.itemsize
            if len(raw) < expected:
                raise ValueError(f"{member} holds {len(raw)} bytes, {expected} are needed")
            storage.data = np.frombuffer(raw[:expected], dtype=storage.kind.dtype)

        with archive.open(pickles[0]) as handle:
            data = io.BytesIO(handle.read())
        return RestrictedUnpickler(data, path, {}, load_storage).load()


def load_state_dict(path: str | Path) -> OrderedDict[str, np.ndarray]:
    """Load a torch.save'd state dict as name -> contiguous numpy array, in file order."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            if handle.read(4) == b"PK\x03\x04":
                obj = _load_zip(path)
            else:
                handle.seek(0)
                obj = _load_legacy(path, handle)
        return _state_dict(obj)
    except RequestError:
        raise
    except FileNotFoundError:
        raise RequestError(f"weights file not found: {path}", "the file does not exist",
                           "reinstall the model package") from None
    except (pickle.UnpicklingError, EOFError, struct.error, zipfile.BadZipFile, ValueError,
            TypeError, KeyError, IndexError, AttributeError, OverflowError, MemoryError,
            RecursionError, OSError, UnicodeDecodeError) as err:
        raise RequestError(f"unreadable weights file {path}", f"it is truncated or corrupt ({err})",
                           _CORRUPT_FIX) from None
