#!/usr/bin/python3
"""trust_ops.py - file operations for tests/mount/trust.sh that print what
each step returned, so the test compares one line.

  trust_ops.py write PATH TEXT [fsync]   open(O_WRONLY|O_TRUNC), write TEXT
                                         (UTF-8), fsync if asked, close;
                                         prints "open=R write=R [fsync=R]
                                         close=R", R = 0 or an errno name
  trust_ops.py fsync PATH                open(O_RDONLY), fsync, close
  trust_ops.py fsyncrm PATH VICTIM       open(O_RDONLY), remove VICTIM,
                                         fsync, close
  trust_ops.py writerm PATH TEXT VICTIM  open PATH for writing, remove
                                         VICTIM, write, close
  trust_ops.py load FILE [ENCODING]      prints repr(pickle.load) (a
                                         gzip/bz2 file is not expected)
  trust_ops.py big FILE ROWS             writes a protocol-4 pickle
                                         {'marker': 'orig-000', 'edit': 0,
                                         'rows': [ROWS small dicts]}
  trust_ops.py race FILE ROUND MODE      waits (30 s at most) until a
                                         temporary file of FILE's write-back
                                         (.NAME.pkfs-XXXXXX) exists, then
                                         changes FILE from outside: MODE
                                         replace (new file, os.replace) or
                                         inplace (same inode, rewritten);
                                         the marker becomes 'outs-ROUND'.
                                         Prints "hit" or "missed"
  trust_ops.py marker FILE               prints marker and edit of a big
                                         pickle
"""

import errno
import os
import pickle
import re
import sys
import time


def name(e):
    return errno.errorcode.get(e.errno, str(e.errno))


def step(out, label, fn, *a):
    try:
        r = fn(*a)
        out.append(label + '=0')
        return r
    except OSError as e:
        out.append(label + '=' + name(e))
        return None


def main():
    op, args = sys.argv[1], sys.argv[2:]
    out = []
    if op == 'write':
        path, text = args[0], args[1]
        fd = step(out, 'open', os.open, path, os.O_WRONLY | os.O_TRUNC)
        if fd is not None:
            step(out, 'write', os.write, fd, text.encode())
            if len(args) > 2 and args[2] == 'fsync':
                step(out, 'fsync', os.fsync, fd)
            step(out, 'close', os.close, fd)
        print(' '.join(out))
    elif op == 'fsync':
        fd = step(out, 'open', os.open, args[0], os.O_RDONLY)
        if fd is not None:
            step(out, 'fsync', os.fsync, fd)
            step(out, 'close', os.close, fd)
        print(' '.join(out))
    elif op == 'fsyncrm':
        fd = step(out, 'open', os.open, args[0], os.O_RDONLY)
        if fd is not None:
            os.unlink(args[1])
            step(out, 'fsync', os.fsync, fd)
            step(out, 'close', os.close, fd)
        print(' '.join(out))
    elif op == 'writerm':
        path, text, victim = args
        fd = step(out, 'open', os.open, path, os.O_WRONLY | os.O_TRUNC)
        if fd is not None:
            os.unlink(victim)
            step(out, 'write', os.write, fd, text.encode())
            step(out, 'close', os.close, fd)
        print(' '.join(out))
    elif op == 'load':
        enc = args[1] if len(args) > 1 else 'ASCII'
        with open(args[0], 'rb') as f:
            print(repr(pickle.load(f, encoding=enc)))
    elif op == 'big':
        rows = [{'id': i, 'name': 'row %d' % i, 'score': i * 0.5}
                for i in range(int(args[1]))]
        with open(args[0], 'wb') as f:
            pickle.dump({'marker': 'orig-000', 'edit': 0, 'rows': rows}, f,
                        protocol=4)
    elif op == 'marker':
        with open(args[0], 'rb') as f:
            d = pickle.load(f)
        print(d['marker'], d['edit'])
    elif op == 'race':
        path, rnd, mode = args
        folder, base = os.path.split(path)
        pat = re.compile(r'^\.' + re.escape(base) + r'\.pkfs-[A-Za-z0-9]{6}$')
        with open(path, 'rb') as f:
            data = f.read()
        i = data.find(b'orig-000')
        if i < 0:
            i = data.find(b'outs-')
        new = b'outs-%03d' % int(rnd)
        end = time.time() + 30
        while time.time() < end:
            if any(pat.match(n) for n in os.listdir(folder or '.')):
                break
            time.sleep(0.001)
        else:
            print('missed')
            return
        if mode == 'replace':
            tmp = path + '.outside'
            with open(tmp, 'wb') as f:
                f.write(data[:i] + new + data[i + len(new):])
            os.replace(tmp, path)
        else:
            with open(path, 'r+b') as f:
                f.seek(i)
                f.write(new)
        print('hit')
    else:
        sys.exit('unknown op ' + op)


if __name__ == '__main__':
    main()
