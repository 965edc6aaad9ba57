"""Writes into the folder argv[1] the seeds of fuzz_archive.c: small tar
and zip archives as Python's tarfile and zipfile write them (make-seeds.sh).
Deterministic: fixed mtimes, no owner names."""
import io
import os
import sys
import tarfile
import zipfile

d = sys.argv[1]
files = [('a.pkl', b'\x80\x04K\x07.'), ('dir/b.pkl', b'x' * 700),
         ('dir/sub/c', b'hello\n' * 20)]


def tar(name, fmt):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w', format=fmt) as tf:
        ti = tarfile.TarInfo('dir')
        ti.type = tarfile.DIRTYPE
        ti.mtime = 1700000000
        tf.addfile(ti)
        for n, data in files:
            ti = tarfile.TarInfo(n)
            ti.size = len(data)
            ti.mtime = 1700000000
            tf.addfile(ti, io.BytesIO(data))
        ti = tarfile.TarInfo('link')
        ti.type = tarfile.SYMTYPE
        ti.linkname = 'a.pkl'
        tf.addfile(ti)
        if fmt != tarfile.USTAR_FORMAT:
            ti = tarfile.TarInfo('long/' + 'n' * 150)
            ti.size = 3
            tf.addfile(ti, io.BytesIO(b'abc'))
    data = buf.getvalue().rstrip(b'\0')
    data += bytes(-len(data) % 512 + 1024)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


def zip_(name, **kw):
    with zipfile.ZipFile(os.path.join(d, name), 'w', **kw) as zf:
        zf.writestr('dir/', b'')
        for n, data in files:
            zi = zipfile.ZipInfo(n, (2020, 1, 2, 3, 4, 6))
            zi.compress_type = kw.get('compression', zipfile.ZIP_STORED)
            zf.writestr(zi, data)
        zi = zipfile.ZipInfo('link', (2020, 1, 2, 3, 4, 6))
        zi.create_system = 3
        zi.external_attr = 0o120777 << 16
        zf.writestr(zi, b'a.pkl')


tar('ustar.tar', tarfile.USTAR_FORMAT)
tar('gnu.tar', tarfile.GNU_FORMAT)
tar('pax.tar', tarfile.PAX_FORMAT)
zip_('stored.zip')
zip_('deflated.zip', compression=zipfile.ZIP_DEFLATED)
with zipfile.ZipFile(os.path.join(d, 'zip64.zip'), 'w') as zf:
    zi = zipfile.ZipInfo('forced.pkl', (2020, 1, 2, 3, 4, 6))
    with zf.open(zi, 'w', force_zip64=True) as f:
        f.write(b'\x80\x04K\x07.')
