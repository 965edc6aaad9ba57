#!/usr/bin/python3
"""Writes the PyTorch checkpoint fixtures into tests/fixtures/torch/, with
expected.json: what real torch loads from each of them. Run once, on a
machine that has torch (Debian's python3-torch, 1.13.1), from the repo
root:

    /usr/bin/python3 scripts/make-torch-fixtures.py

CI has no torch: the files and expected.json are committed, and the mount
tests compare against expected.json (tests/mount/torch_check.py).

All seeds are fixed, so the values are the same on every run. So are the
zip files' bytes (torch 1.13 writes every member's date as 0); legacy.pt's
are not: the legacy format's storage keys are the storages' addresses in
memory.

Everything in expected.json is taken from torch.load's result, except
what torch does not tell (which storage a tensor lies in, and where the
bytes are in the file): that comes from reading the pickle again with a
stub Unpickler (persistent_load records the persistent id, the rebuild
functions return records of their arguments) walked in step with
torch.load's result, and from parsing the zip's local headers (or the
legacy format's pickles and size-prefixed storages) by hand. After
writing, the script checks every tensor's bytes against the raw storage
bytes found this way, and torch.load's values against expected.json.
"""
import collections
import io
import json
import os
import pickle
import pickletools
import struct
import sys
import zipfile

import numpy as np
import torch
import torch.nn as nn

OUT = os.path.join("tests", "fixtures", "torch")

NUMPY_DTYPE = {
    torch.float32: "<f4", torch.float64: "<f8", torch.float16: "<f2",
    torch.bfloat16: "bfloat16",
    torch.int8: "|i1", torch.uint8: "|u1", torch.int16: "<i2",
    torch.int32: "<i4", torch.int64: "<i8", torch.bool: "|b1",
    torch.complex64: "<c8", torch.complex128: "<c16",
}

# element size of each legacy/zip storage class (its GLOBAL name in torch)
STORAGE_ELEMSIZE = {
    "FloatStorage": 4, "DoubleStorage": 8, "HalfStorage": 2,
    "BFloat16Storage": 2, "CharStorage": 1, "ByteStorage": 1,
    "ShortStorage": 2, "IntStorage": 4, "LongStorage": 8, "BoolStorage": 1,
    "ComplexFloatStorage": 8, "ComplexDoubleStorage": 16,
}


# ---------------------------------------------------------------- fixtures

def make_model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))


def bf16_exact(vals):
    t = torch.tensor(vals, dtype=torch.float32)
    b = t.to(torch.bfloat16)
    assert torch.equal(b.float(), t), "not exact in bfloat16: %r" % vals
    return b


def fixtures():
    """(relative name, object, torch.save keyword arguments)"""
    out = []

    out.append(("state_dict.pt", make_model().state_dict(), {}))

    b = torch.arange(20, dtype=torch.float32)
    out.append(("view_offset.pt",
                {"b": b, "v": b[5:11], "m": b.view(4, 5)[1:3, 2:4]}, {}))

    x = torch.arange(12).reshape(3, 4).t()
    out.append(("noncontig.pt", {"t": x, "s": x[::2], "odd": x[1::2]}, {}))

    dt = collections.OrderedDict()
    dt["f16"] = torch.tensor([1.0, -0.5, 65504.0, 2.0 ** -24, 0.333251953125,
                              -0.0], dtype=torch.float16)
    dt["bf16"] = bf16_exact([1.5, -2.25, 3.3895313892515355e38, 2.0 ** -126,
                             0.0, -0.0, 1.0 / 128])
    dt["i8"] = torch.tensor([-128, 127, 0, -1, 42], dtype=torch.int8)
    dt["u8"] = torch.tensor([0, 255, 128, 1], dtype=torch.uint8)
    dt["b"] = torch.tensor([True, False, True, True, False])
    dt["i32"] = torch.tensor([[-2 ** 31, 2 ** 31 - 1], [7, -7]],
                             dtype=torch.int32)
    dt["f64"] = torch.tensor([3.141592653589793, -1e300, 5e-324, 0.1],
                             dtype=torch.float64)
    dt["c64"] = torch.tensor([1 + 2j, -3.5 + 0.25j, 0 - 1j],
                             dtype=torch.complex64)
    dt["i16"] = torch.tensor([-32768, 32767, 300], dtype=torch.int16)
    dt["scalar0d"] = torch.tensor(3.5)
    dt["empty"] = torch.zeros(0, 3)
    out.append(("dtypes.pt", dt, {}))

    torch.manual_seed(1)
    p = nn.Parameter(torch.randn(2, 3))
    out.append(("parameter.pt", {"param": p, "plain": torch.randn(3)}, {}))

    out.append(("legacy.pt", make_model().state_dict(),
                {"_use_new_zipfile_serialization": False}))

    model = make_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    torch.manual_seed(2)
    inp, target = torch.randn(5, 4), torch.randn(5, 2)
    loss = nn.functional.mse_loss(model(inp), target)
    opt.zero_grad()
    loss.backward()
    opt.step()
    ck = {"epoch": 3, "model": model.state_dict(),
          "optimizer": opt.state_dict(), "loss": 0.25}
    out.append((os.path.join("nested", "checkpoint.pt"), ck, {}))
    return out


# ------------------------------------------------- the pickle, read by hand

class StorageRec:
    def __init__(self, pid):
        self.pid = pid


class TensorRec:
    def __init__(self, storage, offset, size, stride, requires_grad, hooks,
                 *rest):
        self.storage = storage
        self.offset = offset
        self.size = tuple(size)
        self.stride = tuple(stride)
        self.requires_grad = requires_grad
        self.rest = rest


class ParamRec:
    def __init__(self, data, requires_grad, hooks):
        self.data = data
        self.requires_grad = requires_grad


class StorageType:
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return "torch." + self.name


class StubUnpickler(pickle.Unpickler):
    def __init__(self, f):
        super().__init__(f)
        self.pids = []

    def find_class(self, module, name):
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return TensorRec
        if (module, name) == ("torch._utils", "_rebuild_parameter"):
            return ParamRec
        if module == "torch" and name.endswith("Storage"):
            return StorageType(name)
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        raise pickle.UnpicklingError("unexpected global %s.%s"
                                     % (module, name))

    def persistent_load(self, pid):
        self.pids.append(pid)
        return StorageRec(pid)


def pid_json(pid):
    return [repr(x) if isinstance(x, StorageType) else x for x in pid]


def pickle_globals(data):
    """the GLOBAL / STACK_GLOBAL names a pickle uses, in first-use order"""
    seen, strings = [], []
    for op, arg, _ in pickletools.genops(data):
        if op.name == "GLOBAL":
            name = arg.replace(" ", ".")
        elif op.name == "STACK_GLOBAL":
            name = strings[-2] + "." + strings[-1]
        else:
            if isinstance(arg, str):
                strings.append(arg)
            continue
        if name not in seen:
            seen.append(name)
    return seen


# ------------------------------------------------------------ walking

def walk(obj, path, tensors, scalars):
    if isinstance(obj, torch.Tensor):
        tensors.append((path, obj))
    elif isinstance(obj, dict):
        for k, v in obj.items():
            walk(v, path + [str(k)], tensors, scalars)
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            walk(v, path + [str(i)], tensors, scalars)
    else:
        scalars.append((path, obj))


def walk_stub(obj, path, out):
    if isinstance(obj, (TensorRec, ParamRec)):
        out[tuple(path)] = obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            walk_stub(v, path + [str(k)], out)
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            walk_stub(v, path + [str(i)], out)


def tensor_values(t):
    t = t.detach()
    if t.dtype == torch.bfloat16:
        t = t.float()
    flat = t.reshape(-1).tolist()
    if t.dtype.is_complex:
        return [[float(c.real), float(c.imag)] for c in flat]
    if t.dtype == torch.bool:
        return [bool(v) for v in flat]
    if t.dtype.is_floating_point:
        return [float(v) for v in flat]
    return [int(v) for v in flat]


def tensor_bytes(t):
    t = t.detach().contiguous()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    return t.numpy().tobytes()


def tensor_entry(path, t, rec):
    if isinstance(rec, ParamRec):
        is_param, inner = True, rec.data
        assert isinstance(t, nn.Parameter)
        assert rec.requires_grad == t.requires_grad
    else:
        is_param, inner = False, rec
        assert not isinstance(t, nn.Parameter)
    assert inner.size == tuple(t.shape), (path, inner.size, t.shape)
    assert inner.stride == tuple(t.stride()), (path, inner.stride)
    assert inner.offset == t.storage_offset(), path
    pid = inner.storage.pid
    return {
        "path": path,
        "dtype": str(t.dtype).replace("torch.", ""),
        "numpy_dtype": NUMPY_DTYPE[t.dtype],
        "shape": list(t.shape),
        "stride": list(t.stride()),
        "storage_offset": t.storage_offset(),
        "storage_key": pid[2],
        "storage_class": repr(pid[1]),
        "storage_numel": pid[4],
        "is_parameter": is_param,
        "requires_grad": bool(t.requires_grad),
        "contiguous": bool(t.is_contiguous()),
        "values": tensor_values(t),
        "bytes_hex": tensor_bytes(t).hex(),
    }


def scalar_entry(path, v):
    return {"path": path, "type": type(v).__name__, "repr": repr(v)}


# ------------------------------------------------------ the file formats

def zip_layout(fpath):
    """members of a torch zip: name, data offset (from the local header),
    size, method; plus the data.pkl and the storages' bytes by key"""
    with open(fpath, "rb") as f:
        raw = f.read()
    z = zipfile.ZipFile(io.BytesIO(raw))
    members, storages, pkl = [], {}, None
    prefix = z.namelist()[0].split("/")[0]
    for info in z.infolist():
        h = info.header_offset
        sig, = struct.unpack_from("<I", raw, h)
        assert sig == 0x04034B50, info.filename
        flags, = struct.unpack_from("<H", raw, h + 6)
        lcrc, lcsize, lusize = struct.unpack_from("<III", raw, h + 14)
        nlen, elen = struct.unpack_from("<HH", raw, h + 26)
        extra = raw[h + 30 + nlen:h + 30 + nlen + elen]
        off = h + 30 + nlen + elen
        end = off + info.compress_size
        dd = struct.unpack_from("<IIII", raw, end) if flags & 8 else None
        if dd:
            assert dd[0] == 0x08074B50 and dd[1] == info.CRC
            assert dd[2] == info.compress_size == dd[3]
        assert raw[h + 30:h + 30 + nlen].decode() == info.filename
        data = raw[off:off + info.compress_size]
        if info.compress_type == zipfile.ZIP_STORED:
            assert data == z.read(info.filename)
        members.append({
            "name": info.filename,
            "header_offset": h,
            "flags": flags,
            "local_crc_size": [lcrc, lcsize, lusize],
            "data_descriptor": bool(dd),
            "extra_len": elen,
            "extra_id": extra[:2].decode("latin-1"),
            "data_offset": off,
            "offset_mod_64": off % 64,
            "size": info.file_size,
            "stored": info.compress_type == zipfile.ZIP_STORED,
        })
        assert info.filename.startswith(prefix + "/")
        rest = info.filename[len(prefix) + 1:]
        if rest == "data.pkl":
            pkl = z.read(info.filename)
        elif rest.startswith("data/"):
            storages[rest[5:]] = z.read(info.filename)
    version = z.read(prefix + "/version").decode()
    return prefix, members, pkl, storages, version


def legacy_layout(fpath):
    """the legacy format: pickles one after another, then the storages,
    each as an 8-byte little-endian element count and the raw bytes"""
    with open(fpath, "rb") as f:
        raw = f.read()
    f = io.BytesIO(raw)
    what = ["magic number", "protocol version", "sys_info", "data",
            "storage keys"]
    pickles, values, data_pkl, stub = [], [], None, None
    for i, w in enumerate(what):
        start = f.tell()
        if w == "data":
            u = StubUnpickler(f)
            v = u.load()
            stub = u
            data_pkl = raw[start:f.tell()]
            shown = "(the checkpoint object)"
        else:
            v = pickle.Unpickler(f).load()
            shown = repr(v)
        pickles.append({"index": i, "what": w, "offset": start,
                        "length": f.tell() - start, "value": shown})
        values.append(v)
    keys = values[4]
    elsize = {}
    for pid in stub.pids:
        elsize[pid[2]] = STORAGE_ELEMSIZE[pid[1].name]
    storages, layout = {}, []
    for k in keys:
        start = f.tell()
        n, = struct.unpack("<q", f.read(8))
        nbytes = n * elsize[k]
        storages[k] = f.read(nbytes)
        assert len(storages[k]) == nbytes
        layout.append({"key": k, "offset": start, "numel": n,
                       "data_offset": start + 8, "nbytes": nbytes})
    assert f.tell() == len(raw), "trailing bytes after the last storage"
    return {
        "pickles": pickles,
        "magic_number": values[0],
        "protocol_version": values[1],
        "sys_info": values[2],
        "storage_keys": keys,
        "storages": layout,
        "file_size": len(raw),
    }, data_pkl, stub, storages


def check_storage_bytes(entry, storage_bytes):
    """the tensor's bytes, taken from the raw storage with its offset and
    strides, must be bytes_hex"""
    nd = entry["numpy_dtype"]
    dt = np.dtype("<i2") if nd == "bfloat16" else np.dtype(nd)
    buf = np.frombuffer(storage_bytes, dtype=dt)
    assert len(buf) == entry["storage_numel"], entry["path"]
    if np.prod(entry["shape"], dtype=np.int64) == 0:
        got = b""
    else:
        view = np.lib.stride_tricks.as_strided(
            buf[entry["storage_offset"]:],
            shape=entry["shape"],
            strides=[s * dt.itemsize for s in entry["stride"]])
        got = np.ascontiguousarray(view).tobytes()
    assert got.hex() == entry["bytes_hex"], entry["path"]


# ---------------------------------------------------------------- main

def describe(name, fpath, obj_loaded):
    legacy = not zipfile.is_zipfile(fpath)
    if legacy:
        lay, pkl, stub, storages = legacy_layout(fpath)
        stubobj = None
        f = io.BytesIO(pkl)
        u = StubUnpickler(f)
        stubobj = u.load()
        pids = u.pids
        info = {"format": "legacy", "legacy": lay}
    else:
        prefix, members, pkl, storages, version = zip_layout(fpath)
        u = StubUnpickler(io.BytesIO(pkl))
        stubobj = u.load()
        pids = u.pids
        info = {"format": "zip", "archive_prefix": prefix,
                "version": version, "members": members}
    info["file_size"] = os.path.getsize(fpath)
    info["persistent_ids"] = [pid_json(p) for p in pids]
    info["pickle_globals"] = pickle_globals(pkl)
    md = getattr(obj_loaded, "_metadata", None)
    if md is not None:
        info["top_metadata"] = {k: dict(v) for k, v in md.items()}

    recs = {}
    walk_stub(stubobj, [], recs)
    tensors, scalars = [], []
    walk(obj_loaded, [], tensors, scalars)
    assert len(tensors) == len(recs), name
    info["tensors"] = []
    for path, t in tensors:
        e = tensor_entry(path, t, recs[tuple(path)])
        check_storage_bytes(e, storages[e["storage_key"]])
        info["tensors"].append(e)
    info["scalars"] = [scalar_entry(p, v) for p, v in scalars]
    return info


def verify(expected):
    """torch.load each fixture again and compare with expected.json"""
    for name, info in expected["fixtures"].items():
        obj = torch.load(os.path.join(OUT, name))
        tensors, scalars = [], []
        walk(obj, [], tensors, scalars)
        assert len(tensors) == len(info["tensors"]), name
        for (path, t), e in zip(tensors, info["tensors"]):
            assert path == e["path"]
            assert str(t.dtype) == "torch." + e["dtype"]
            assert list(t.shape) == e["shape"]
            assert list(t.stride()) == e["stride"]
            assert t.storage_offset() == e["storage_offset"]
            assert isinstance(t, nn.Parameter) == e["is_parameter"]
            assert t.requires_grad == e["requires_grad"]
            assert t.is_contiguous() == e["contiguous"]
            assert tensor_values(t) == e["values"], (name, path)
            assert tensor_bytes(t).hex() == e["bytes_hex"], (name, path)
            if e["numpy_dtype"] != "bfloat16":
                a = np.frombuffer(bytes.fromhex(e["bytes_hex"]),
                                  dtype=e["numpy_dtype"])
                vals = e["values"]
                if t.dtype.is_complex:
                    vals = [complex(r, i) for r, i in vals]
                assert np.array_equal(
                    a, np.array(vals, dtype=e["numpy_dtype"])), (name, path)
        assert [scalar_entry(p, v) for p, v in scalars] == info["scalars"]
        # tensors sharing one storage in the file share it after loading
        bykey = {}
        for (path, t), e in zip(tensors, info["tensors"]):
            bykey.setdefault(e["storage_key"], set()).add(
                t.storage().data_ptr())
        assert all(len(v) == 1 for v in bykey.values()), name
        print("verified %s: %d tensors, %d scalars"
              % (name, len(tensors), len(scalars)))


def main():
    if not os.path.isdir("scripts"):
        sys.exit("run from the repo root")
    os.makedirs(os.path.join(OUT, "nested"), exist_ok=True)
    expected = {
        "torch_version": torch.__version__,
        "made_by": "scripts/make-torch-fixtures.py",
        "fixtures": collections.OrderedDict(),
    }
    for name, obj, kw in fixtures():
        fpath = os.path.join(OUT, name)
        torch.save(obj, fpath, **kw)
        loaded = torch.load(fpath)
        expected["fixtures"][name] = describe(name, fpath, loaded)
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, allow_nan=False)
        f.write("\n")
    with open(os.path.join(OUT, "expected.json")) as f:
        verify(json.load(f))
    total = 0
    for root, _, files in os.walk(OUT):
        for fn in files:
            total += os.path.getsize(os.path.join(root, fn))
    print("total size of %s: %d bytes" % (OUT, total))
    assert total < 300 * 1024


if __name__ == "__main__":
    main()
