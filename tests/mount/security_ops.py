"""Helpers of tests/mount/security.sh, run as the unprivileged test user
(and `pickle` as root): tight loops a shell loop would be too slow for.

  toggle SECONDS PAUSE A B [A B ...]
                                exchanges each pair of names with
                                renameat2(RENAME_EXCHANGE) and back, then
                                sleeps PAUSE seconds (0: none), until
                                SECONDS have passed; so each name ends as
                                it began. Prints the number of exchanges.
  read SECONDS SECRET FILE...   reads each FILE in turn (a fresh open
                                each time) until SECONDS have passed.
                                Prints "reads R errors E secrets S": S
                                counts reads whose text holds SECRET.
  write SECONDS DIR NAME [POKE]
                                chdir DIR, then writes a number into
                                NAME (open 'w', write, close) until
                                SECONDS have passed. After 100 refusals
                                in a row, touches POKE (the pickle on
                                disk: a change there makes the mount read
                                it again) and waits a second. Prints "ok
                                N refused M pokes P".
  put FILE TEXT                 writes TEXT and a newline into FILE
                                (open 'w', write, close: a refused edit
                                shows at close, which sh ignores).
                                Prints "ok" or the error's words.
  pickle FILE REPR              writes the pickle of eval(REPR) to FILE.
"""
import ctypes
import os
import pickle
import sys
import time

AT_FDCWD = -100
RENAME_EXCHANGE = 2


def toggle(seconds, pause, names):
    libc = ctypes.CDLL(None, use_errno=True)
    pairs = [(names[i].encode(), names[i + 1].encode())
             for i in range(0, len(names), 2)]
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        for a, b in pairs:
            for _ in range(2):
                if libc.renameat2(AT_FDCWD, a, AT_FDCWD, b,
                                  RENAME_EXCHANGE) != 0:
                    err = ctypes.get_errno()
                    sys.exit("renameat2: %s" % os.strerror(err))
                n += 1
        if pause:
            time.sleep(pause)
    print(n)


def read(seconds, secret, files):
    end = time.monotonic() + seconds
    reads = errors = secrets = 0
    while time.monotonic() < end:
        for f in files:
            try:
                with open(f, 'rb') as fh:
                    data = fh.read()
            except OSError:
                errors += 1
                continue
            reads += 1
            if secret.encode() in data:
                secrets += 1
    print("reads %d errors %d secrets %d" % (reads, errors, secrets))


def write(seconds, folder, name, poke=None):
    os.chdir(folder)
    end = time.monotonic() + seconds
    ok = refused = pokes = row = 0
    i = 100
    while time.monotonic() < end:
        i += 1
        try:
            with open(name, 'w') as fh:
                fh.write('%d\n' % i)
            ok += 1
            row = 0
        except OSError:
            refused += 1
            row += 1
        if poke and row >= 100:
            try:
                os.utime(poke)
            except OSError:
                pass
            pokes += 1
            row = 0
            time.sleep(1.1)
    print("ok %d refused %d pokes %d" % (ok, refused, pokes))


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == 'toggle':
        toggle(float(args[0]), float(args[1]), args[2:])
    elif cmd == 'read':
        read(float(args[0]), args[1], args[2:])
    elif cmd == 'write':
        write(float(args[0]), args[1], args[2], *args[3:4])
    elif cmd == 'put':
        try:
            with open(args[0], 'w') as fh:
                fh.write(args[1] + '\n')
            print("ok")
        except OSError as e:
            print(e.strerror)
    elif cmd == 'pickle':
        with open(args[0], 'wb') as fh:
            pickle.dump(eval(args[1]), fh, protocol=4)
    else:
        sys.exit("unknown command " + cmd)


if __name__ == '__main__':
    main()
