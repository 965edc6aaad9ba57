#!/usr/bin/python3
"""Writes the fixtures of tests/unit/test_compress.c into
tests/fixtures/compress/. Run from the repo root with /usr/bin/python3
(its zlib and libbz2 are the system ones the C code links):

    /usr/bin/python3 scripts/make-compress-fixtures.py

Every file is made by Python's own gzip/bz2 modules (or derived from one
by cutting or flipping bytes), so the tests compare against what Python
really writes. The output is deterministic except gzip_open.pkl.gz,
whose header carries the time it was made (gzip.open has no mtime
argument), exactly as a user's file would.
"""
import bz2
import gzip
import io
import os
import pickle
import random
import sys

OUT = os.path.join("tests", "fixtures", "compress")
MTIME = 1700000000


def payload_object():
    rnd = random.Random(20240501)
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta",
             "theta", "iota", "kappa", "lambda", "mu"]
    rows = []
    for i in range(320):
        rows.append({
            "id": i,
            "name": " ".join(rnd.choice(words) for _ in range(3)),
            "score": round(rnd.random() * 100, 2),
            "tags": [rnd.choice(words) for _ in range(rnd.randint(0, 4))],
            "blob": bytes(rnd.getrandbits(8) for _ in range(4)),
        })
    return {"version": 3, "rows": rows, "note": "picklefs compress fixture"}


def write(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def read(name):
    with open(os.path.join(OUT, name), "rb") as f:
        return f.read()


def main():
    os.makedirs(OUT, exist_ok=True)
    obj = payload_object()
    payload = pickle.dumps(obj, protocol=4)
    write("payload.pkl", payload)

    # gzip.open at the default level 9: FNAME "gzip_open.pkl", mtime now.
    with gzip.open(os.path.join(OUT, "gzip_open.pkl.gz"), "wb") as f:
        pickle.dump(obj, f, protocol=4)
    # bz2.open at the default level 9.
    with bz2.open(os.path.join(OUT, "bz2_open.pkl.bz2"), "wb") as f:
        pickle.dump(obj, f, protocol=4)

    # A GzipFile with a name, a fixed mtime and level 1 (XFL 4).
    bio = io.BytesIO()
    with gzip.GzipFile(filename="/some/dir/data.pkl.gz", mode="wb",
                       fileobj=bio, compresslevel=1, mtime=MTIME) as f:
        f.write(payload)
    write("named_level1.gz", bio.getvalue())

    # gzip.compress: no FNAME, OS 255; level 6 writes XFL 0.
    write("compress.gz", gzip.compress(payload, mtime=MTIME))
    write("compress_level6.gz",
          gzip.compress(payload, compresslevel=6, mtime=MTIME))
    # mtime=0 goes through zlib's own gzip wrapper (OS 3, not 255).
    write("compress_mtime0.gz", gzip.compress(payload, mtime=0))

    # Several members / streams, as `cat a.gz b.gz` makes them; the last
    # one is empty, which Python reads (and writes) happily.
    a, b, c = payload[:6000], payload[6000:], b""
    members = [gzip.compress(p, mtime=MTIME + i)
               for i, p in enumerate((a, b, c))]
    write("multi.gz", b"".join(members))
    write("multi_padded.gz",
          members[0] + b"\0" * 16 + members[1] + members[2] + b"\0" * 7)
    write("multi.bz2", bz2.compress(a) + bz2.compress(b) + bz2.compress(c))
    # 'BZh1': 100 KB blocks.
    write("bz2_level1.bz2", bz2.compress(payload, compresslevel=1))

    # Broken ones, all derived from gzip.compress/bz2.compress output.
    good = gzip.compress(payload, mtime=MTIME)
    write("truncated.gz", good[:len(good) // 2])
    crc = bytearray(good)
    crc[-8] ^= 0x55  # first byte of the trailer's CRC32
    write("badcrc.gz", bytes(crc))
    bad = bytearray(good)
    bad[10] = 0xff  # first deflate byte: BFINAL 1, BTYPE 3 (reserved)
    write("corrupt_deflate.gz", bytes(bad))
    write("garbage.gz", good + b"garbage!")
    goodbz = bz2.compress(payload)
    badbz = bytearray(goodbz)
    badbz[len(badbz) // 2] ^= 0x01
    write("corrupt.bz2", bytes(badbz))
    write("truncated.bz2", goodbz[:len(goodbz) // 2])

    # Check that Python agrees with what the tests expect.
    for name in ("gzip_open.pkl.gz", "named_level1.gz", "compress.gz",
                 "compress_level6.gz", "compress_mtime0.gz", "multi.gz",
                 "multi_padded.gz"):
        with gzip.open(os.path.join(OUT, name), "rb") as f:
            assert f.read() == payload, name
    for name in ("bz2_open.pkl.bz2", "multi.bz2", "bz2_level1.bz2"):
        with bz2.open(os.path.join(OUT, name), "rb") as f:
            assert f.read() == payload, name
    for name, exc in (("truncated.gz", EOFError),
                      ("badcrc.gz", gzip.BadGzipFile),
                      ("corrupt_deflate.gz", Exception),
                      ("garbage.gz", gzip.BadGzipFile),
                      ("corrupt.bz2", OSError),
                      ("truncated.bz2", EOFError)):
        opener = bz2.open if name.endswith(".bz2") else gzip.open
        try:
            with opener(os.path.join(OUT, name), "rb") as f:
                f.read()
        except exc:
            pass
        else:
            sys.exit("%s: Python read it without an error" % name)

    total = sum(os.path.getsize(os.path.join(OUT, n))
                for n in os.listdir(OUT))
    print("%s: %d files, %d bytes" % (OUT, len(os.listdir(OUT)), total))


if __name__ == "__main__":
    main()
