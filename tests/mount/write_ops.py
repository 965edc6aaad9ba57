#!/usr/bin/python3
"""write_ops.py - file operations from Python, with exact errno checks.

  write_ops.py OP ARGS...                  OP must succeed
  write_ops.py -e ERRNO[@STEP] OP ARGS...  OP must fail with ERRNO (a name:
                                           EINVAL, EROFS, EXDEV ...), at
                                           STEP when given (open, write,
                                           close, truncate, call)

OPs (TEXT is written as UTF-8, exactly as given):
  write PATH TEXT      os.open(O_WRONLY|O_TRUNC), os.write, os.close
  pywrite PATH TEXT    open(PATH, 'w').write(TEXT) (buffered, then close)
  create PATH TEXT     os.open(O_WRONLY|O_CREAT|O_TRUNC), write, close
  excl PATH TEXT       os.open(O_WRONLY|O_CREAT|O_EXCL), write, close
  replace PATH TEXT    tempfile.mkstemp(dir=dirname(PATH)), write, close,
                       os.replace(tmp, PATH)  (the atomic-writer idiom)
  ftruncate PATH N     os.open(O_RDWR), os.ftruncate(N), os.close
  rename A B | mkdir P | rmdir P | unlink P      the os call
  setxattr PATH NAME VALUE                         os.setxattr

Prints what went wrong and exits 1 otherwise.
"""

import errno
import os
import sys
import tempfile


class Step(Exception):
    def __init__(self, step, err):
        super().__init__(step)
        self.step = step
        self.err = err


def at(step, fn, *a):
    try:
        return fn(*a)
    except OSError as e:
        raise Step(step, e) from None


def fd_write(fd, data):
    while data:
        n = os.write(fd, data)
        data = data[n:]


def run(op, args):
    if op in ('write', 'create', 'excl'):
        path, text = args
        flags = {'write': os.O_WRONLY | os.O_TRUNC,
                 'create': os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                 'excl': os.O_WRONLY | os.O_CREAT | os.O_EXCL}[op]
        fd = at('open', os.open, path, flags, 0o644)
        try:
            at('write', fd_write, fd, text.encode('utf-8', 'surrogateescape'))
        except Step:
            try:
                os.close(fd)  # may refuse what is left too
            except OSError:
                pass
            raise
        at('close', os.close, fd)
    elif op == 'pywrite':
        path, text = args
        f = at('open', open, path, 'w')
        try:
            at('write', f.write, text)
            at('write', f.flush)
        except Step:
            try:
                f.close()
            except OSError:
                pass
            raise
        at('close', f.close)
    elif op == 'replace':
        path, text = args
        fd, tmp = at('open', tempfile.mkstemp,
                     '', '.tmp', os.path.dirname(path) or '.')
        at('write', fd_write, fd, text.encode())
        at('close', os.close, fd)
        at('call', os.replace, tmp, path)
    elif op == 'ftruncate':
        path, n = args
        fd = at('open', os.open, path, os.O_RDWR)
        try:
            at('truncate', os.ftruncate, fd, int(n))
        except Step:
            try:
                os.close(fd)  # may refuse what is left too
            except OSError:
                pass
            raise
        at('close', os.close, fd)
    elif op == 'rename':
        at('call', os.rename, *args)
    elif op in ('mkdir', 'rmdir', 'unlink'):
        at('call', getattr(os, op), *args)
    elif op == 'setxattr':
        path, name, value = args
        at('call', os.setxattr, path, name, value.encode())
    else:
        raise SystemExit('write_ops.py: unknown op ' + op)


def main():
    args = sys.argv[1:]
    want = None
    if args[0] == '-e':
        want = args[1]
        args = args[2:]
    op, rest = args[0], args[1:]
    try:
        run(op, rest)
    except Step as s:
        name = errno.errorcode.get(s.err.errno, str(s.err.errno))
        if want is None:
            print('%s %s: %s failed: %s' % (op, ' '.join(rest), s.step, s.err))
            return 1
        wname, _, wstep = want.partition('@')
        if name != wname or (wstep and s.step != wstep):
            print('%s %s: %s failed with %s, expected %s' %
                  (op, ' '.join(rest), s.step, name, want))
            return 1
        return 0
    if want is not None:
        print('%s %s: succeeded, expected %s' % (op, ' '.join(rest), want))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
