#!/usr/bin/python3
"""soak.py - concurrency soak of picklefs's write side, bounded in time.

  soak.py            runs for SOAK_SECONDS (default 20)

One pickle, a dict of 200 keys k000..k199 with int values, mounted (the
ASan picklefs, file SOURCE, write-back at close; SOAK_WRITEBACK=1 mounts
with -o writeback=1 instead). A value always encodes its key: key i holds
i * 10**6 + n, so a value that lands in the wrong key is seen at once.

- 6 writers each own 25 keys (k000..k149) and rewrite them in a loop with
  os.open(O_WRONLY|O_TRUNC), write, close, recording every value tried and
  the last value whose close() returned 0, per key;
- 2 churners own 25 keys each (k150..k199): rm a key, then create it again
  with a known value (O_CREAT), recording the state after each acknowledged
  step;
- 2 readers read random keys (ENOENT or ESTALE is fine for a churn key,
  never for a writer's): the text must be an int, of that key
  (value // 10**6 is the key's number), and one its owner tried at some
  point; a writer's key is never missing; now and then the listing must
  hold every writer key once, in order.

At the end, after unmount: the picklefs exit status and its log (sanitizer
reports), then /usr/bin/python3 loads the pickle: every writer key holds
what its owner last acknowledged, a churn key is absent when its last
acknowledged step was rm and holds the value written when it was a create.
Prints the figures and "soak: N passed, N failed" (checks: one per key,
plus one per kind of reader or writer failure).
"""

import errno
import json
import multiprocessing
import os
import pickle
import random
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model_lib as M  # noqa: E402  (BIN, WORK, register)

SECONDS = float(os.environ.get('SOAK_SECONDS', '20'))
WRITEBACK = os.environ.get('SOAK_WRITEBACK', '0') == '1'
NKEYS = 200
WRITERS = 6
CHURNERS = 2
READERS = 2
PER = 25
BASE = 10 ** 6
INT_TEXT = re.compile(rb'-?[0-9]+\n')


def key(i):
    return 'k%03d' % i


def writer(mp, wid, keys, deadline, out):
    rnd = random.Random(1000 + wid)
    tried = {k: [] for k in keys}
    acked = {}
    ops = errors = 0
    errs = {}
    seq = 0
    while time.time() < deadline:
        i = rnd.choice(keys)
        seq += 1
        v = i * BASE + seq
        tried[i].append(v)
        p = os.path.join(mp, key(i))
        try:
            fd = os.open(p, os.O_WRONLY | os.O_TRUNC)
            try:
                os.write(fd, b'%d\n' % v)
            finally:
                os.close(fd)
            acked[i] = v
        except OSError as e:
            errors += 1
            n = errno.errorcode.get(e.errno, str(e.errno))
            errs[n] = errs.get(n, 0) + 1
        ops += 1
    with open(out, 'w') as f:
        json.dump({'tried': tried, 'acked': acked, 'ops': ops,
                   'errors': errors, 'errs': errs}, f)


def churner(mp, cid, keys, deadline, out):
    rnd = random.Random(2000 + cid)
    tried = {k: [] for k in keys}
    state = {k: ['present', k * BASE] for k in keys}  # last acknowledged
    ops = errors = 0
    errs = {}
    seq = 0
    while time.time() < deadline:
        i = rnd.choice(keys)
        p = os.path.join(mp, key(i))
        try:
            if state[i][0] == 'present':
                state[i][0] = 'unknown'
                os.unlink(p)
                state[i] = ['absent', None]
            else:
                seq += 1
                v = i * BASE + 500000 + seq
                tried[i].append(v)
                state[i][0] = 'unknown'
                fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                try:
                    os.write(fd, b'%d\n' % v)
                finally:
                    os.close(fd)
                state[i] = ['present', v]
        except OSError as e:
            errors += 1
            n = errno.errorcode.get(e.errno, str(e.errno))
            errs[n] = errs.get(n, 0) + 1
        ops += 1
    with open(out, 'w') as f:
        json.dump({'tried': tried, 'state': state, 'ops': ops,
                   'errors': errors, 'errs': errs}, f)


def reader(mp, rid, writer_keys, deadline, out):
    rnd = random.Random(3000 + rid)
    seen = {}
    reads = missing_writer = absent = invalid = wrong_key = listings = bad_listing = 0
    empty = 0
    examples = []
    shown = {}

    def example(kind, text):
        # up to 3 examples of each kind of wrong read
        if shown.get(kind, 0) < 3:
            shown[kind] = shown.get(kind, 0) + 1
            examples.append(text)
    order = [key(i) for i in writer_keys]
    while time.time() < deadline:
        reads += 1
        if reads % 50 == 0:
            listings += 1
            try:
                names = [e.name for e in os.scandir(mp)]
                got = [n for n in names if n in set(order)]
                if got != order or len(set(names)) != len(names):
                    bad_listing += 1
                    example('listing', 'listing: %d names, %d writer keys, in order: %s'
                            % (len(names), len(got), got == order))
            except OSError as e:
                bad_listing += 1
                example('listing', 'listing: %s' % e)
        i = rnd.randrange(NKEYS)
        try:
            with open(os.path.join(mp, key(i)), 'rb') as f:
                text = f.read()
        except FileNotFoundError:
            if i in writer_keys:
                missing_writer += 1
                example('missing', '%s (a writer key) missing' % key(i))
            else:
                absent += 1
            continue
        except OSError as e:
            if e.errno == errno.ESTALE and i not in writer_keys:
                absent += 1  # removed by its churner while we read it
                continue
            invalid += 1
            example('error', '%s: %s' % (key(i), e))
            continue
        if text == b'':
            # a writer between its O_TRUNC open and its close: what a
            # regular file shows too (`echo 5 > f` truncates first; the
            # README says so); counted, not a failure
            empty += 1
            continue
        if not INT_TEXT.fullmatch(text):
            invalid += 1
            example('invalid', '%s reads %r' % (key(i), text))
            continue
        v = int(text)
        if v // BASE != i:
            wrong_key += 1
            example('wrong', '%s reads %d (a value of %s)' % (key(i), v, key(v // BASE)))
        seen.setdefault(i, set()).add(v)
    with open(out, 'w') as f:
        json.dump({'seen': {k: sorted(v) for k, v in seen.items()}, 'reads': reads,
                   'missing_writer': missing_writer, 'absent': absent,
                   'invalid': invalid, 'empty': empty, 'wrong_key': wrong_key, 'listings': listings,
                   'bad_listing': bad_listing, 'examples': examples}, f)


def main():
    work = tempfile.mkdtemp(prefix='soak-', dir=M.WORK)
    src = os.path.join(work, 'soak.pkl')
    mp = os.path.join(work, 'mnt')
    os.makedirs(mp)
    initial = {key(i): i * BASE for i in range(NKEYS)}
    with open(src, 'wb') as f:
        pickle.dump(initial, f, protocol=4)
    logfile = os.path.join(work, 'picklefs.log')
    opts = ['-o', 'writeback=1'] if WRITEBACK else []
    with open(logfile, 'wb') as logf:
        proc = subprocess.Popen([M.BIN, '-f'] + opts + [src, mp], stdin=subprocess.DEVNULL,
                                stdout=logf, stderr=logf, env=M.TOOL_ENV)
    M.register('pids', proc.pid)
    M.register('mounts', mp)
    passed = failed = 0

    def bad(msg):
        nonlocal failed
        failed += 1
        print('FAIL soak: %s' % msg, flush=True)

    t0 = time.time()
    while not os.path.ismount(mp):
        if proc.poll() is not None or time.time() - t0 > 20:
            bad('picklefs did not mount')
            print('soak: 0 passed, 1 failed')
            return 1
        time.sleep(0.02)

    deadline = time.time() + SECONDS
    writer_keys = list(range(WRITERS * PER))
    procs = []
    outs = {'w': [], 'c': [], 'r': []}
    for w in range(WRITERS):
        o = os.path.join(work, 'w%d.json' % w)
        outs['w'].append(o)
        procs.append(multiprocessing.Process(
            target=writer, args=(mp, w, list(range(w * PER, (w + 1) * PER)), deadline, o)))
    for c in range(CHURNERS):
        o = os.path.join(work, 'c%d.json' % c)
        outs['c'].append(o)
        lo = WRITERS * PER + c * PER
        procs.append(multiprocessing.Process(
            target=churner, args=(mp, c, list(range(lo, lo + PER)), deadline, o)))
    for r in range(READERS):
        o = os.path.join(work, 'r%d.json' % r)
        outs['r'].append(o)
        procs.append(multiprocessing.Process(
            target=reader, args=(mp, r, set(writer_keys), deadline, o)))
    for p in procs:
        p.start()
    for p in procs:
        p.join(SECONDS + 120)
        if p.is_alive():
            p.kill()
            p.join()
            bad('a worker process hung (killed)')

    # unmount: everything pending is written
    for _ in range(100):
        if subprocess.run(['fusermount3', '-u', mp], stderr=subprocess.DEVNULL).returncode == 0:
            break
        time.sleep(0.1)
    try:
        rc = proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = proc.wait()
    with open(logfile, 'rb') as f:
        log = f.read()
    if M.SANITIZER.search(log):
        bad('sanitizer report: %s' % log.decode('utf-8', 'replace')[-2000:])
    else:
        passed += 1
    if rc != 0:
        bad('picklefs exited %d: %s' % (rc, log[-300:].decode('utf-8', 'replace')))
    else:
        passed += 1

    def load(o):
        try:
            with open(o) as f:
                return json.load(f)
        except (OSError, ValueError):
            bad('no results from %s' % os.path.basename(o))
            return None

    W = [x for x in map(load, outs['w']) if x]
    C = [x for x in map(load, outs['c']) if x]
    R = [x for x in map(load, outs['r']) if x]
    tried = {i: {i * BASE} for i in range(NKEYS)}
    for x in W + C:
        for k, vs in x['tried'].items():
            tried[int(k)].update(vs)

    try:
        with open(src, 'rb') as f:
            final = pickle.load(f)
    except Exception as e:  # noqa: BLE001
        bad('the pickle does not load after unmount: %s: %s' % (type(e).__name__, e))
        final = None
    wrong_final = []
    if final is not None:
        expect = {}
        for x in W:
            for k in x['tried']:
                expect[int(k)] = ('present', x['acked'].get(k, int(k) * BASE))
        for x in C:
            for k, (st, v) in x['state'].items():
                expect[int(k)] = (st, v)
        for i in range(NKEYS):
            st, v = expect.get(i, ('present', i * BASE))
            got = final.get(key(i), '<absent>')
            if st == 'present':
                ok = type(got) is int and got == v
            elif st == 'absent':
                ok = key(i) not in final
            else:  # the last churn step failed: either is fine
                ok = True
            if ok:
                passed += 1
            else:
                failed += 1
                wrong_final.append('%s: %r, expected %s' % (
                    key(i), got, 'absent' if st == 'absent' else v))
        extra = [k for k in final if k not in {key(i) for i in range(NKEYS)}]
        if extra:
            bad('keys nobody made: %r' % extra[:10])
        else:
            passed += 1
        if type(final) is not dict:
            bad('the pickle is a %s' % type(final).__name__)
    for w in wrong_final[:10]:
        print('FAIL soak: final value %s' % w)

    ops = sum(x['ops'] for x in W + C)
    werr = sum(x['errors'] for x in W)
    cerr = sum(x['errors'] for x in C)
    reads = sum(x['reads'] for x in R)
    invalid = sum(x['invalid'] for x in R)
    wrong = sum(x['wrong_key'] for x in R)
    missing = sum(x['missing_writer'] for x in R)
    bad_listing = sum(x['bad_listing'] for x in R)
    never = 0
    never_ex = []
    for x in R:
        for k, vs in x['seen'].items():
            for v in vs:
                if v // BASE == int(k) and v not in tried[int(k)]:
                    never += 1
                    if len(never_ex) < 5:
                        never_ex.append('%s read %d' % (key(int(k)), v))
    errs = {}
    for x in W + C:
        for n, c in x['errs'].items():
            errs[n] = errs.get(n, 0) + c
    print('soak: %.0f s, %d writer/churn ops (%d writes by 6 writers, %d rm/create by 2 '
          'churners), %d failed (%s); %d reads checked (%d of removed keys), %d listings; '
          'wrong values: %d of another key, %d never written to it, %d not an int '
          '(%d empty while being rewritten, allowed); '
          '%d writer keys missing; %d bad listings; %d final values wrong'
          % (SECONDS, ops, sum(x['ops'] for x in W), sum(x['ops'] for x in C),
             werr + cerr, ', '.join('%s %d' % kv for kv in sorted(errs.items())) or 'none',
             reads, sum(x['absent'] for x in R), sum(x['listings'] for x in R),
             wrong, never, invalid, sum(x['empty'] for x in R), missing, bad_listing,
             len(wrong_final)), flush=True)
    for label, n, ex in (('writes that failed (writer keys are never removed)', werr, []),
                         ('churn steps that failed', cerr, []),
                         ('reads that are not an int', invalid, []),
                         ('reads of another key\'s value', wrong, []),
                         ('reads of a value of the key that was never written', never, never_ex),
                         ('writer keys missing', missing, []),
                         ('listings without every writer key in order', bad_listing, [])):
        if n:
            bad('%d %s %s' % (n, label, '; '.join(ex)))
        else:
            passed += 1
    exs = [e for x in R for e in x['examples']]
    for e in exs[:12]:
        print('  reader saw: %s' % e)
    if failed == 0 and os.environ.get('MODEL_KEEP') != '1':
        import shutil
        shutil.rmtree(work, ignore_errors=True)
    print('soak: %d passed, %d failed' % (passed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
