"""Writes into the folder argv[1] a pickle (payload.pkl) and that pickle
compressed the ways Python's lzma, zlib and zstandard modules and the zstd
CLI write it, for test_compress.c (the xz / lzma / zstd / zlib tests)."""
import lzma
import os
import pickle
import subprocess
import sys
import zlib

import zstandard

d = sys.argv[1]
obj = {'name': 'picklefs', 'values': list(range(20000)), 'text': 'x' * 5000,
       'floats': [i / 7 for i in range(3000)]}
p = pickle.dumps(obj, 4)


def put(name, data):
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


put('payload.pkl', p)
with lzma.open(os.path.join(d, 'open.xz'), 'wb') as f:
    f.write(p)
put('preset1_crc32.xz', lzma.compress(p, preset=1, check=lzma.CHECK_CRC32))
put('preset9_sha256.xz', lzma.compress(p, preset=9, check=lzma.CHECK_SHA256))
put('nocheck.xz', lzma.compress(p, check=lzma.CHECK_NONE))
put('multi.xz', lzma.compress(p[:1000]) + lzma.compress(p[1000:]))
put('junk.xz', lzma.compress(p) + b'junk')
with lzma.open(os.path.join(d, 'open.lzma'), 'wb',
               format=lzma.FORMAT_ALONE) as f:
    f.write(p)
put('preset3.lzma', lzma.compress(p, format=lzma.FORMAT_ALONE, preset=3))
put('compress.z', zlib.compress(p))
put('level1.z', zlib.compress(p, 1))
put('level3.z', zlib.compress(p, 3))
put('level9.z', zlib.compress(p, 9))
put('junk.z', zlib.compress(p) + b'junk')
with open(os.path.join(d, 'writer.zst'), 'wb') as f:
    with zstandard.ZstdCompressor().stream_writer(f) as z:
        z.write(p)
put('compress.zst', zstandard.ZstdCompressor().compress(p))
subprocess.run(['zstd', '-q', '-f', os.path.join(d, 'payload.pkl'), '-o',
                os.path.join(d, 'cli.zst')], check=True)
put('multi.zst', zstandard.ZstdCompressor().compress(p[:1000]) +
    zstandard.ZstdCompressor().compress(p[1000:]))
put('junk.zst', zstandard.ZstdCompressor().compress(p) + b'junk')
