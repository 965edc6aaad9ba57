#!/usr/bin/python3
"""model_lib.py - a plain Python model of a picklefs mount's write side,
and a Driver that applies one edit to a REAL mount (the ASan picklefs,
`-f` in the background) with a real tool, applies the same edit to the
model, and checks that both agree.

The model is the value (nested dicts and lists of str, int, float, bool,
None, bytes, complex) and, for every directory, the names the mount
shows, in order. The rules it encodes (README "Editing" and "Names",
DESIGN "Identity"):

- identity, not position: a name never changes while mounted except by
  `mv`; `rm l/1` of `0 1 2 3 4` leaves `0 2 3 4`. A new file (or mkdir)
  in a list appends when its name is one more than the highest name shown
  (0 when nothing is shown); any other new name fails with EINVAL. After a
  remount or an outside rewrite, list names are 0..n-1 again.
- dict: a new file is a new key at the end, typed by its content (int,
  float, bool, None, complex literal, else str with one trailing newline
  dropped); rm removes the key; mv renames in place; mv onto an existing
  scalar gives it a's text read as b's type, in b's place; sed -i, vim
  and os.replace keep type and place.
- writing a scalar reads the text as the node's own type, numbers widening
  as Python's do (bool -> int -> float; None takes any text as a new file
  would); text that is not a literal of it fails with EINVAL (at write or
  close) and nothing changes (the pickle on disk is byte-identical, cat
  shows the old value).
- an open file whose entry another process removed: write+close fails
  with ENOENT or ESTALE, and nothing else changes.
- an outside rewrite of the source shows within ~1 s; later edits apply
  to the new content.

After every step the Driver checks (a) the raw readdir order (os.scandir)
of every directory against the model's names, and the entry kinds,
(b) /usr/bin/python3's pickle.load of the file on disk against the value,
type for type and key order (tests/mount/write_check.diff), with the same
protocol and compression, (c) the bytes every scalar file reads as (and
`cat` of the file just edited) against the model's text forms. With
`-o writeback=1`, (b) is checked only after an fsync, after waiting
1.6 s, or after unmount.

Every step is logged as the Python call that replays it, so a failing
sequence pastes into regressions.py as it is.
"""

import bz2
import errno
import gzip
import os
import pickle
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, 'tests', 'mount'))
import write_check  # noqa: E402  (diff, protocol, compression)

BUILD = os.environ.get('BUILD', 'build')
BIN = os.environ.get('PICKLEFS') or (
    os.path.join(BUILD, 'asan', 'picklefs') if os.path.isabs(BUILD)
    else os.path.join(REPO, BUILD, 'asan', 'picklefs'))
# where every run keeps its sources, mount points and logs; run.sh sets it
# and unmounts whatever is listed in $MODEL_WORK/mounts on exit
WORK = os.environ.get('MODEL_WORK') or tempfile.mkdtemp(prefix='picklefs-model-')
os.makedirs(WORK, exist_ok=True)
TOOL_ENV = dict(os.environ, LC_ALL='C.UTF-8', ASAN_OPTIONS=os.environ.get(
    'ASAN_OPTIONS', 'detect_leaks=1:abort_on_error=0'),
    UBSAN_OPTIONS=os.environ.get('UBSAN_OPTIONS', 'print_stacktrace=1'))
SANITIZER = re.compile(rb'AddressSanitizer|LeakSanitizer|runtime error')
STAT_WAIT = 1.1      # the mount looks at the source at most once a second
SHOW_WITHIN = 3.0    # an outside change must show within this (seconds)
WRITEBACK_WAIT = 1.6  # -o writeback=1: on disk after this

REMOVED_ERRNOS = (errno.ENOENT, errno.ESTALE)
# known failures to step around while looking for others (edit_model.py
# documents the flags); fsync: settle -o writeback by waiting, not fsync;
# folder-temp: ignore write-back temporaries (.NAME.pkfs-XXXXXX) in a
# folder mount's listing
AVOID = set(filter(None, os.environ.get('MODEL_AVOID', '').split(',')))


class ModelFailure(AssertionError):
    """The mount and the model disagree. `rule` names the rule broken."""

    def __init__(self, rule, msg):
        super().__init__('[%s] %s' % (rule, msg))
        self.rule = rule


_FAILURES = {}


def failure(rule, step):
    """A ModelFailure subclass per (rule, step kind): Hypothesis tells bugs
    apart by exception type, so each is shrunk and reported on its own."""
    name = '%s@%s' % (rule, step)
    if name not in _FAILURES:
        _FAILURES[name] = type('ModelFailure_%s_at_%s' % (
            rule.replace('-', '_'), step), (ModelFailure,), {})
    return _FAILURES[name]


class Invalid(Exception):
    """Text that is not a literal of the type."""


# ---------------------------------------------------------------- text forms

INT_RE = re.compile(r'-?(0|[1-9][0-9]*)')
FLOAT_RE = re.compile(r'-?([0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)([eE][-+]?[0-9]+)?')
COMPLEX_RE = re.compile(
    r'\(-?[0-9.e+-]+[-+][0-9.e+]+j\)|-?[0-9.e+]+j')


def text_of(v):
    """What `cat` prints for a scalar (README "How values appear")."""
    if isinstance(v, bool) or v is None:
        return ('%r\n' % (v,)).encode()
    if isinstance(v, (int, float, complex)):
        return (repr(v) + '\n').encode()
    if isinstance(v, str):
        return (v + '\n').encode() if v else b''
    if isinstance(v, bytes):
        return v
    raise TypeError(type(v))


def type_name(v):
    return 'none' if v is None else type(v).__name__


def parse(raw, tname, widen=False):
    """raw bytes written to a scalar file of type `tname` -> the value, or
    Invalid. Only the forms the strategies make are decided; anything the
    model cannot judge raises AssertionError (a bug in the test).

    widen (what a write does, README "Numbers widen as Python's arithmetic
    does"): bool -> int -> float, never back, so an int file takes a float
    literal and a bool file an int or float one; None takes any text and
    becomes what a new file with that content would be. setfattr and mv
    onto an existing entry read the text as the type itself (widen=False).
    """
    if widen and tname == 'none':
        return infer(raw)
    if widen and tname in ('bool', 'int'):
        t = raw.decode('utf-8').strip()
        if tname == 'bool' and INT_RE.fullmatch(t):
            return int(t)
        if FLOAT_RE.fullmatch(t) and not INT_RE.fullmatch(t):
            return float(t)
    if tname == 'bytes':
        return bytes(raw)
    s = raw.decode('utf-8')
    if tname == 'str':
        return s[:-1] if s.endswith('\n') else s
    t = s.strip()
    if tname == 'int':
        if INT_RE.fullmatch(t):
            return int(t)
        if re.fullmatch(r'[-+]?[0-9_]+', t) and t not in ('-', '+'):
            raise AssertionError('model: ambiguous int text %r' % t)
        raise Invalid(t)
    if tname == 'float':
        if FLOAT_RE.fullmatch(t):
            return float(t)
        if t.lower() in ('inf', '-inf', 'nan', '+inf') or '_' in t:
            raise AssertionError('model: ambiguous float text %r' % t)
        raise Invalid(t)
    if tname == 'bool':
        if t in ('True', 'False'):
            return t == 'True'
        raise Invalid(t)
    if tname == 'none':
        if t == 'None':
            return None
        raise Invalid(t)
    if tname == 'complex':
        if COMPLEX_RE.fullmatch(t):
            return complex(t)
        raise Invalid(t)
    raise AssertionError('model: parse to %s' % tname)


def infer(raw):
    """The value a new file in a dict gets from its content."""
    s = raw.decode('utf-8')
    t = s.strip()
    if INT_RE.fullmatch(t):
        return int(t)
    if FLOAT_RE.fullmatch(t):
        return float(t)
    if t in ('True', 'False'):
        return t == 'True'
    if t == 'None':
        return None
    if COMPLEX_RE.fullmatch(t):
        return complex(t)
    return s[:-1] if s.endswith('\n') else s


# ---------------------------------------------------------------- the model

class Dir:
    """A directory of the model: kind 'dict' or 'list', entries
    [name, key, child] in the order the mount must list them."""

    def __init__(self, kind, entries):
        self.kind = kind
        self.entries = entries

    def names(self):
        return [e[0] for e in self.entries]

    def index(self, name):
        for i, e in enumerate(self.entries):
            if e[0] == name:
                return i
        return None

    def value(self):
        if self.kind == 'dict':
            return {e[1]: value_of(e[2]) for e in self.entries}
        return [value_of(e[2]) for e in self.entries]

    def next_name(self):
        """The only new name a list accepts."""
        if not self.entries:
            return '0'
        return str(max(int(n) for n in self.names()) + 1)


def value_of(node):
    return node.value() if isinstance(node, Dir) else node


def build(v):
    """Model of a freshly (re)loaded value: list names 0..n-1."""
    if isinstance(v, dict):
        return Dir('dict', [[k, k, build(x)] for k, x in v.items()])
    if isinstance(v, list):
        return Dir('list', [[str(i), None, build(x)] for i, x in enumerate(v)])
    return v


# ---------------------------------------------------------------- config

class Config:
    def __init__(self, source='file', proto=4, comp='none', writeback=0):
        assert source in ('file', 'folder') and comp in ('none', 'gzip', 'bzip2')
        self.source, self.proto, self.comp, self.writeback = \
            source, proto, comp, writeback

    def __repr__(self):
        return 'Config(%r, %r, %r, %r)' % (self.source, self.proto,
                                           self.comp, self.writeback)


def encode(value, proto, comp):
    data = pickle.dumps(value, protocol=proto)
    if comp == 'gzip':
        return gzip.compress(data, mtime=0)
    if comp == 'bzip2':
        return bz2.compress(data)
    return data


def register(kind, what):
    """Tells run.sh's trap what to clean up if we die (mounts, pids)."""
    with open(os.path.join(WORK, kind), 'a') as f:
        f.write('%s\n' % what)


# ---------------------------------------------------------------- the driver

_ROOT = object()  # walk()'s default: the root (None is a value)


class Driver:
    """One pickle, one mount, the model; every public method is one step."""

    steps_total = 0
    kinds = {}  # step kind -> count, over every Driver

    def __init__(self, cfg, initial, log=None):
        self.cfg = cfg
        self.work = tempfile.mkdtemp(prefix='ex-', dir=WORK)
        self.src = os.path.join(self.work, 'src')
        self.mp = os.path.join(self.work, 'mnt')
        os.makedirs(self.src)
        os.makedirs(self.mp)
        ext = {'none': '', 'gzip': '.gz', 'bzip2': '.bz2'}[cfg.comp]
        self.pkname = 'data.pkl' + ext
        self.pk = os.path.join(self.src, self.pkname)
        self.logfile = os.path.join(self.work, 'picklefs.log')
        self.proc = None
        self.failed = False
        self.steps = ['d = Driver(%r, %r)' % (cfg, initial)]
        self.log = log
        self.last = None  # the path last edited (cat'ed with the real cat)
        self.kind = 'start'  # the kind of the current step
        self.disk_now = False
        with open(self.pk, 'wb') as f:
            f.write(encode(initial, cfg.proto, cfg.comp))
        # the file's mtime in the past, so that any rewrite shows
        os.utime(self.pk, (time.time() - 100, time.time() - 100))
        self.root = build(initial)
        self.present = True
        self._mount()
        try:
            self._guard(self.check)
        except BaseException:
            self.failed = True
            self.close()  # nobody else will: the caller never gets the Driver
            raise

    # ---------------------------------------------------------- plumbing
    def _step(self, text):
        Driver.steps_total += 1
        self.steps.append(text)
        self.kind = text[2:text.index('(')]
        Driver.kinds[self.kind] = Driver.kinds.get(self.kind, 0) + 1
        if self.log:
            self.log(text)

    def fail(self, rule, msg):
        self.failed = True
        raise failure(rule, self.kind)(rule, '%s\n    steps:\n      %s' % (
            msg, '\n      '.join(self.steps)))

    def _guard(self, fn, *a):
        try:
            return fn(*a)
        except ModelFailure:
            self.failed = True
            raise

    @property
    def top(self):
        return self.mp if self.cfg.source == 'file' else \
            os.path.join(self.mp, self.pkname)

    def fs(self, path):
        return os.path.join(self.top, *path)

    def node(self, path):
        """(parent Dir, index, node) of a path of names."""
        parent, idx, n = None, None, self.root
        for name in path:
            assert isinstance(n, Dir), path
            parent, idx = n, n.index(name)
            assert idx is not None, ('model: no %r in %r' % (name, path))
            n = n.entries[idx][2]
        return parent, idx, n

    def walk(self, node=_ROOT, path=()):
        """(path, node) of every entry, directories first."""
        node = self.root if node is _ROOT else node
        yield path, node
        if isinstance(node, Dir):
            for name, _k, child in node.entries:
                yield from self.walk(child, path + (name,))

    def scalars(self, types=None):
        return [p for p, n in self.walk() if p and not isinstance(n, Dir)
                and (types is None or type_name(n) in types)]

    def dirs(self, kind=None):
        return [p for p, n in self.walk() if isinstance(n, Dir)
                and (kind is None or n.kind == kind)]

    def run(self, argv, shell=False):
        """A real tool; returns (exit status, stderr)."""
        r = subprocess.run(argv, shell=shell, env=TOOL_ENV, cwd=self.work,
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        return r.returncode, (r.stdout + r.stderr).decode('utf-8', 'replace').strip()

    def _mount(self):
        opts = ['-o', 'writeback=1'] if self.cfg.writeback else []
        source = self.pk if self.cfg.source == 'file' else self.src
        logf = open(self.logfile, 'ab')
        self.proc = subprocess.Popen([BIN, '-f'] + opts + [source, self.mp],
                                     stdin=subprocess.DEVNULL,
                                     stdout=logf, stderr=logf, env=TOOL_ENV)
        logf.close()
        register('pids', self.proc.pid)
        register('mounts', self.mp)
        t0 = time.time()
        while not os.path.ismount(self.mp):
            if self.proc.poll() is not None or time.time() - t0 > 20:
                if self.proc.poll() is None:
                    self.proc.kill()
                self.proc.wait()
                self.proc = None
                self.fail('mount', 'picklefs did not mount: %s' % self._logtail())
            time.sleep(0.02)

    def _logtail(self):
        try:
            with open(self.logfile, 'rb') as f:
                return f.read()[-600:].decode('utf-8', 'replace')
        except OSError:
            return ''

    def _umount(self):
        for _ in range(100):
            r = subprocess.run(['fusermount3', '-u', self.mp],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if r.returncode == 0 or not os.path.ismount(self.mp):
                break
            time.sleep(0.1)
        else:
            subprocess.run(['fusermount3', '-u', '-z', self.mp])
            self.fail('unmount', 'fusermount3 -u kept failing: %s' % r.stderr)
        try:
            rc = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self.fail('exit', 'picklefs did not exit after unmount')
        self.proc = None
        with open(self.logfile, 'rb') as f:
            log = f.read()
        if SANITIZER.search(log):
            self.fail('sanitizer', 'sanitizer report in the mount log:\n%s' %
                      log.decode('utf-8', 'replace')[-3000:])
        if rc != 0:
            self.fail('exit', 'picklefs exited %d: %s' % (rc, self._logtail()))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if exc[0] is not None:
            self.failed = True
        self.close()
        return False

    def close(self):
        """Unmount (which flushes), check the disk, remove the files."""
        try:
            if self.proc is not None:
                self._umount()
                if not self.failed:
                    self.disk_now = True
                    self._guard(self._check_disk, 'after unmount')
        finally:
            if self.proc is not None:  # a failure above: just clean up
                subprocess.run(['fusermount3', '-u', '-z', self.mp],
                               stderr=subprocess.DEVNULL)
                try:
                    self.proc.kill()
                    self.proc.wait(timeout=10)
                except (OSError, subprocess.TimeoutExpired):
                    pass
            if os.environ.get('MODEL_KEEP') != '1':
                shutil.rmtree(self.work, ignore_errors=True)

    # ---------------------------------------------------------- checks
    def check(self, retry=0.0, what=''):
        deadline = time.time() + retry
        while True:
            try:
                self._check_mount(what)
                break
            except ModelFailure:
                if time.time() >= deadline:
                    raise
                self.failed = False
                time.sleep(0.2)
        if not self.cfg.writeback or self.disk_now:
            self._check_disk(what)
        self.disk_now = False

    def _check_mount(self, what):
        if self.cfg.source == 'folder':
            got = sorted(os.listdir(self.mp))
            if 'folder-temp' in AVOID:
                got = [n for n in got if '.pkfs-' not in n]
            want = [self.pkname] if self.present else []
            if got != want:
                self.fail('listing', '%sfolder mount root lists %r, expected %r '
                          '(the source folder holds %r now)'
                          % (what, got, want, sorted(os.listdir(self.src))))
        if not self.present:
            return
        for path, node in self.walk():
            if not isinstance(node, Dir):
                continue
            p = self.fs(path)
            try:
                with os.scandir(p) as it:
                    got = [(e.name, e.is_dir(follow_symlinks=False)) for e in it]
            except OSError as e:
                self.fail('listing', '%sscandir %s: %s' % (what, '/'.join(path) or '.', e))
            want = [(e[0], isinstance(e[2], Dir)) for e in node.entries]
            if [g[0] for g in got] != [w[0] for w in want]:
                rule = 'identity' if node.kind == 'list' else 'listing'
                self.fail(rule, '%sls -f %s shows %s, expected %s' % (
                    what, '/'.join(path) or '.', ' '.join(g[0] for g in got),
                    ' '.join(w[0] for w in want)))
            if got != want:
                self.fail('listing', '%s%s: entry kinds (name, is_dir) %r, expected %r'
                          % (what, '/'.join(path) or '.', got, want))
        for path, node in self.walk():
            if isinstance(node, Dir):
                continue
            try:
                with open(self.fs(path), 'rb') as f:
                    got = f.read()
            except OSError as e:
                self.fail('cat', '%sread %s: %s' % (what, '/'.join(path), e))
            if got != text_of(node):
                self.fail('cat', '%s%s reads %r, expected %r (%s %r)' % (
                    what, '/'.join(path), got, text_of(node), type_name(node), node))
        if self.last is not None:
            try:
                _p, _i, n = self.node(self.last)
            except AssertionError:
                n = None
            if n is not None and not isinstance(n, Dir):
                r = subprocess.run(['cat', self.fs(self.last)], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE)
                if r.returncode != 0 or r.stdout != text_of(n):
                    self.fail('cat', '%scat %s: exit %d, %r, expected %r' % (
                        what, '/'.join(self.last), r.returncode, r.stdout, text_of(n)))

    def disk_bytes(self):
        with open(self.pk, 'rb') as f:
            return f.read()

    def _check_disk(self, what=''):
        if not self.present:
            if os.path.exists(self.pk):
                self.fail('disk', '%s%s exists, expected it deleted' % (what, self.pkname))
            return
        raw = self.disk_bytes()
        comp = write_check.compression(raw)
        if comp != self.cfg.comp:
            self.fail('disk', '%scompression %s, expected %s' % (what, comp, self.cfg.comp))
        try:
            data = write_check.plain(raw)
            got = pickle.loads(data)
        except Exception as e:  # noqa: BLE001
            self.fail('disk', '%sthe pickle does not load: %s: %s' % (
                what, type(e).__name__, e))
        want = self.root.value()
        d = write_check.diff(got, want)
        if d:
            self.fail('disk', '%spickle on disk: %s\n    disk:  %r\n    model: %r'
                      % (what, d, got, want))
        p = write_check.protocol(data)
        if p != self.cfg.proto:
            self.fail('disk', '%sprotocol %d, expected %d' % (what, p, self.cfg.proto))
        left = [n for n in os.listdir(self.src) if n != self.pkname]
        if left and not self.cfg.writeback:
            self.fail('disk', '%sleft in the source folder: %r' % (what, left))

    def _expect_failed(self, rule, what, before, errs, got):
        """A refused edit: `got` must be an errno in errs; nothing changed."""
        if got not in errs:
            self.fail(rule, '%s: %s, expected %s' % (
                what, 'succeeded' if got is None else errno.errorcode.get(got, got),
                ' or '.join(errno.errorcode[e] for e in errs)))
        if not self.cfg.writeback and self.disk_bytes() != before:
            self.fail(rule, '%s: refused, but the pickle on disk changed' % what)

    # ---------------------------------------------------------- steps
    def write(self, path, tool, text):
        """Replace the content of scalar `path` with a real tool:
        echo (bash builtin; /bin/echo when the text is invalid), python
        (open(p, 'w').write(text), text as given), replace (mkstemp +
        os.replace, text as given), sed (sed -i 's/.*/TEXT/'), vim
        (setline, :wq, defaults), vimbak (vim with backupskip= backupcopy=no:
        renames the file to name~ and writes a new one). echo, sed and vim
        add a newline."""
        self._step('d.write(%r, %r, %r)' % (path, tool, text))
        self._guard(self._write, path, tool, text)

    def _write(self, path, tool, text):
        parent, idx, old = self.node(path)
        raw = text.encode() if tool in ('python', 'replace') else (text + '\n').encode()
        try:
            new = parse(raw, type_name(old), widen=True)
            valid = True
        except Invalid:
            valid = False
        p = self.fs(path)
        before = self.disk_bytes() if not self.cfg.writeback else None
        err = None
        if tool == 'echo':
            echo = 'echo' if valid else '/bin/echo'
            rc, out = self.run(['bash', '-c', '%s %s > %s' % (
                echo, shlex.quote(text), shlex.quote(p))])
            err = None if rc == 0 else errno.EINVAL
        elif tool == 'python':
            try:
                with open(p, 'w') as f:
                    f.write(text)
            except OSError as e:
                err, out = e.errno, str(e)
        elif tool == 'replace':
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(p))
            try:
                os.write(fd, raw)
                os.close(fd)
                os.replace(tmp, p)
            except OSError as e:
                err, out = e.errno, str(e)
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
        elif tool == 'sed':
            rep = re.sub(r'([\\/&])', r'\\\1', text)
            rc, out = self.run(['sed', '-i', 's/.*/%s/' % rep, p])
            err = None if rc == 0 else errno.EINVAL
        elif tool in ('vim', 'vimbak'):
            argv = ['vim', '-u', 'NONE', '-i', 'NONE', '-N', '-es']
            if tool == 'vimbak':
                argv += ['-c', 'set backupskip= backupcopy=no']
            argv += ['-c', "call setline(1, '%s')" % text.replace("'", "''"),
                     '-c', 'wq', os.path.basename(p)]
            r = subprocess.run(argv, cwd=os.path.dirname(p), env=TOOL_ENV,
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=60)
            rc, out = r.returncode, r.stdout.decode('utf-8', 'replace')
            err = None if rc == 0 else errno.EINVAL
        else:
            raise AssertionError(tool)
        self.last = path
        if not valid:
            self._expect_failed('einval', '%s %r into %s %s' % (
                tool, text, type_name(old), '/'.join(path)), before,
                (errno.EINVAL,), err)
        else:
            if err is not None:
                self.fail('write', '%s %r into %s %s failed: %s' % (
                    tool, text, type_name(old), '/'.join(path), out))
            parent.entries[idx][2] = new
        self.check(what='after %s: ' % self.steps[-1])

    def truncate(self, path, size):
        """truncate -s SIZE of a scalar file (size <= its length)."""
        self._step('d.truncate(%r, %r)' % (path, size))
        self._guard(self._truncate, path, size)

    def _truncate(self, path, size):
        parent, idx, old = self.node(path)
        raw = text_of(old)[:size] if size <= len(text_of(old)) else \
            text_of(old) + b'\0' * (size - len(text_of(old)))
        try:
            new = parse(raw, type_name(old), widen=True)
            valid = True
        except (Invalid, UnicodeDecodeError):
            valid = False
        before = self.disk_bytes() if not self.cfg.writeback else None
        rc, out = self.run(['truncate', '-s', str(size), self.fs(path)])
        self.last = path
        if not valid:
            self._expect_failed('einval', 'truncate -s %d of %s %s' % (
                size, type_name(old), '/'.join(path)), before, (errno.EINVAL,),
                None if rc == 0 else errno.EINVAL)
        else:
            if rc != 0:
                self.fail('write', 'truncate -s %d %s: %s' % (size, '/'.join(path), out))
            parent.entries[idx][2] = new
        self.check(what='after %s: ' % self.steps[-1])

    def create(self, dpath, name, tool, text):
        """A new file NAME in directory dpath: echo TEXT > NAME (bash) or
        Python open(p, 'w').write(TEXT) (TEXT as given). In a list only
        the next name is accepted; any other fails with EINVAL."""
        self._step('d.create(%r, %r, %r, %r)' % (dpath, name, tool, text))
        self._guard(self._create, dpath, name, tool, text)

    def _create(self, dpath, name, tool, text):
        _p, _i, d = self.node(dpath)
        assert isinstance(d, Dir) and d.index(name) is None
        raw = text.encode() if tool == 'python' else (text + '\n').encode()
        ok = d.kind == 'dict' or name == d.next_name()
        p = os.path.join(self.fs(dpath), name)
        before = self.disk_bytes() if not self.cfg.writeback else None
        err = None
        if tool == 'echo' and ok:
            rc, out = self.run(['bash', '-c', 'echo %s > %s' % (
                shlex.quote(text), shlex.quote(p))])
            err = None if rc == 0 else -1
        else:
            try:
                fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                try:
                    os.write(fd, raw)
                finally:
                    os.close(fd)
            except OSError as e:
                err, out = e.errno, str(e)
        if not ok:
            self._expect_failed('list-append', 'new file %s in list %s (next name %s)' % (
                name, '/'.join(dpath) or '.', d.next_name()), before,
                (errno.EINVAL,), err)
        else:
            if err is not None:
                self.fail('create', 'new file %s: %s' % ('/'.join(dpath + (name,)), out))
            d.entries.append([name, name if d.kind == 'dict' else None, infer(raw)])
            self.last = dpath + (name,)
        self.check(what='after %s: ' % self.steps[-1])

    def mkdir(self, dpath, name):
        self._step('d.mkdir(%r, %r)' % (dpath, name))
        self._guard(self._mkdir, dpath, name)

    def _mkdir(self, dpath, name):
        _p, _i, d = self.node(dpath)
        assert isinstance(d, Dir) and d.index(name) is None
        ok = d.kind == 'dict' or name == d.next_name()
        before = self.disk_bytes() if not self.cfg.writeback else None
        try:
            os.mkdir(os.path.join(self.fs(dpath), name))
            err = None
        except OSError as e:
            err = e.errno
        if not ok:
            self._expect_failed('list-append', 'mkdir %s in list %s (next name %s)' % (
                name, '/'.join(dpath) or '.', d.next_name()), before,
                (errno.EINVAL,), err)
        else:
            if err is not None:
                self.fail('create', 'mkdir %s: %s' % ('/'.join(dpath + (name,)),
                                                      os.strerror(err)))
            d.entries.append([name, name if d.kind == 'dict' else None, Dir('dict', [])])
        self.check(what='after %s: ' % self.steps[-1])

    def rm(self, path):
        """rm FILE, or rm -r DIR."""
        self._step('d.rm(%r)' % (path,))
        self._guard(self._rm, path)

    def _rm(self, path):
        parent, idx, n = self.node(path)
        argv = ['rm', '-r' if isinstance(n, Dir) else '-f', self.fs(path)]
        rc, out = self.run(argv)
        if rc != 0:
            self.fail('rm', '%s: %s' % (' '.join(argv[:2] + ['/'.join(path)]), out))
        del parent.entries[idx]
        self.check(what='after %s: ' % self.steps[-1])

    def mv(self, dpath, a, b):
        """mv a b in one dict: a rename in place; onto an existing scalar b:
        b takes a's text read as b's type, in b's place, a goes."""
        self._step('d.mv(%r, %r, %r)' % (dpath, a, b))
        self._guard(self._mv, dpath, a, b)

    def _mv(self, dpath, a, b):
        _p, _i, d = self.node(dpath)
        assert d.kind == 'dict'
        ia, ib = d.index(a), d.index(b)
        rc, out = self.run(['mv', os.path.join(self.fs(dpath), a),
                            os.path.join(self.fs(dpath), b)])
        if rc != 0:
            self.fail('mv', 'mv %s %s in %s: %s' % (a, b, '/'.join(dpath) or '.', out))
        if ib is None:
            d.entries[ia][0] = d.entries[ia][1] = b
        else:
            old = d.entries[ib][2]
            d.entries[ib][2] = parse(text_of(d.entries[ia][2]), type_name(old))
            del d.entries[ia]
        self.last = dpath + (b,)
        self.check(what='after %s: ' % self.steps[-1])

    def setfattr(self, path, tname):
        """setfattr -n user.pickle.type -v TYPE: the current text read as TYPE."""
        self._step('d.setfattr(%r, %r)' % (path, tname))
        self._guard(self._setfattr, path, tname)

    def _setfattr(self, path, tname):
        parent, idx, old = self.node(path)
        try:
            new = parse(text_of(old), tname)
            valid = True
        except Invalid:
            valid = False
        before = self.disk_bytes() if not self.cfg.writeback else None
        rc, out = self.run(['setfattr', '-n', 'user.pickle.type', '-v', tname,
                            self.fs(path)])
        self.last = path
        if not valid:
            self._expect_failed('einval', 'setfattr type %s on %s %r' % (
                tname, type_name(old), old), before, (errno.EINVAL,),
                None if rc == 0 else errno.EINVAL)
        else:
            if rc != 0:
                self.fail('setfattr', 'setfattr %s on %s: %s' % (tname, '/'.join(path), out))
            parent.entries[idx][2] = new
        self.check(what='after %s: ' % self.steps[-1])

    def removed_write(self, path, sibling, text):
        """Open scalar `path` for writing (O_WRONLY|O_TRUNC), remove
        `sibling` (if not None) then `path` with rm from another process,
        then write TEXT (valid for its type) and close: ENOENT or ESTALE,
        and nothing else changes."""
        self._step('d.removed_write(%r, %r, %r)' % (path, sibling, text))
        self._guard(self._removed_write, path, sibling, text)

    def _removed_write(self, path, sibling, text):
        parent, idx, n = self.node(path)
        raw = text.encode()
        parse(raw, type_name(n), widen=True)  # valid: only the removal can fail it
        fd = os.open(self.fs(path), os.O_WRONLY | os.O_TRUNC)
        err = None
        try:
            if sibling is not None:
                _sp, _si, sn = self.node(sibling)
                rc, out = self.run(['rm', '-r' if isinstance(sn, Dir) else '-f',
                                    self.fs(sibling)])
                if rc != 0:
                    self.fail('rm', 'rm %s: %s' % ('/'.join(sibling), out))
            rc, out = self.run(['rm', '-f', self.fs(path)])
            if rc != 0:
                self.fail('rm', 'rm %s (open for writing): %s' % ('/'.join(path), out))
            try:
                os.write(fd, raw)
            except OSError as e:
                err = e.errno
        finally:
            try:
                os.close(fd)
            except OSError as e:
                err = err or e.errno
        if sibling is not None:
            sp, si, _sn = self.node(sibling)
            del sp.entries[si]
        parent, idx, n = self.node(path)
        del parent.entries[idx]
        if err not in REMOVED_ERRNOS:
            also = ''
            try:  # where did it go?
                self.check(what='')
            except ModelFailure as e:
                also = '; and then ' + str(e).split('\n    steps:')[0]
            self.fail('removed-write', 'write+close of %s after rm: %s, expected ENOENT or '
                      'ESTALE%s' % ('/'.join(path), 'succeeded' if err is None else
                                    errno.errorcode.get(err, err), also))
        self.check(what='after %s: ' % self.steps[-1])

    def read_during_write(self, path, text, split):
        """os.open(O_WRONLY|O_TRUNC), write TEXT[:split], read the file
        with another open (it must still show the old value: a value is
        replaced when the written file is closed, the disk unchanged), write
        the rest, close; then as any write (EINVAL for an invalid text)."""
        self._step('d.read_during_write(%r, %r, %r)' % (path, text, split))
        self._guard(self._read_during_write, path, text, split)

    def _read_during_write(self, path, text, split):
        parent, idx, old = self.node(path)
        raw = text.encode()
        try:
            new = parse(raw, type_name(old), widen=True)
            valid = True
        except Invalid:
            valid = False
        before = self.disk_bytes() if not self.cfg.writeback else None
        p = self.fs(path)
        err = None
        seen = None
        fd = os.open(p, os.O_WRONLY | os.O_TRUNC)
        try:
            try:
                os.write(fd, raw[:split])
                with open(p, 'rb') as f:
                    seen = f.read()
                disk = self.disk_bytes() if not self.cfg.writeback else None
                os.write(fd, raw[split:])
            except OSError as e:
                err = e.errno
        finally:
            try:
                os.close(fd)
            except OSError as e:
                err = err or e.errno
        self.last = path
        if seen is not None and seen != text_of(old):
            self.fail('commit-at-close', 'while %s was open for writing with %r of %r '
                      'written, another open read %r, expected the old %r' % (
                          '/'.join(path), raw[:split], raw, seen, text_of(old)))
        if before is not None and seen is not None and disk != before:
            self.fail('commit-at-close', 'the pickle on disk changed before close() '
                      'of %s (%r of %r written)' % ('/'.join(path), raw[:split], raw))
        if not valid:
            self._expect_failed('einval', 'write %r (in two parts) into %s %s' % (
                text, type_name(old), '/'.join(path)), before, (errno.EINVAL,), err)
        else:
            if err is not None:
                self.fail('write', 'write %r (in two parts) into %s %s: %s' % (
                    text, type_name(old), '/'.join(path), os.strerror(err)))
            parent.entries[idx][2] = new
        self.check(what='after %s: ' % self.steps[-1])

    def fsync(self, path):
        """fsync of a file of the pickle: with -o writeback, everything
        pending is on disk after it."""
        self._step('d.fsync(%r)' % (path,))
        self._guard(self._fsync, path)

    def _fsync(self, path):
        fd = os.open(self.fs(path), os.O_RDONLY)
        try:
            os.fsync(fd)
        except OSError as e:
            self.fail('fsync', 'fsync %s: %s' % ('/'.join(path), e))
        finally:
            os.close(fd)
        self.disk_now = True
        self.check(what='after %s: ' % self.steps[-1])

    def wait(self):
        """Wait > 1.5 s: with -o writeback=1 every edit is on disk."""
        self._step('d.wait()')
        time.sleep(WRITEBACK_WAIT)
        self.disk_now = True
        self._guard(self.check, 0.0, 'after %s: ' % self.steps[-1])

    def remount(self):
        """Unmount (flushes), check the disk, mount again: list names are
        0..n-1 again."""
        self._step('d.remount()')
        self._guard(self._remount)

    def _remount(self):
        self._umount()
        self.disk_now = True
        self._check_disk('after unmount: ')
        self._mount()
        if self.present:
            self.root = build(self.root.value())
        self.check(what='after %s: ' % self.steps[-1])

    def _settle(self):
        """Before someone else writes the file: nothing pending."""
        if self.cfg.writeback and self.present:
            p = next(iter(self.scalars()), None)
            if p is None or 'fsync' in AVOID:
                time.sleep(WRITEBACK_WAIT)
            else:
                fd = os.open(self.fs(p), os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
            self.disk_now = True
            self.check(what='before an outside rewrite: ')

    def outside(self, value, how):
        """Another program rewrites the source: how='replace' (pickle.dump
        to a temporary + os.replace) or 'inplace' (open(p, 'wb') with a
        smaller pickle: the caller passes a value that encodes smaller)."""
        self._step('d.outside(%r, %r)' % (value, how))
        self._guard(self._outside, value, how)

    def _outside(self, value, how):
        self._settle()
        data = encode(value, self.cfg.proto, self.cfg.comp)
        if how == 'replace' or not self.present:
            tmp = os.path.join(self.work, 'outside.tmp')
            with open(tmp, 'wb') as f:
                f.write(data)
            os.replace(tmp, self.pk)
        elif len(data) >= len(self.disk_bytes()):
            # -o writeback: the flush above changed the size; replace instead
            self.steps[-1] = 'd.outside(%r, %r)' % (value, 'replace')
            tmp = os.path.join(self.work, 'outside.tmp')
            with open(tmp, 'wb') as f:
                f.write(data)
            os.replace(tmp, self.pk)
        else:
            with open(self.pk, 'wb') as f:
                f.write(data)
        self.present = True
        self.root = build(value)
        self.last = None
        time.sleep(STAT_WAIT)
        self.disk_now = True
        self.check(retry=SHOW_WITHIN, what='after %s: ' % self.steps[-1])

    def delete(self):
        """Another program deletes the pickle (folder SOURCE)."""
        self._step('d.delete()')
        self._guard(self._delete)

    def _delete(self):
        assert self.cfg.source == 'folder'
        self._settle()
        os.unlink(self.pk)
        self.present = False
        self.last = None
        time.sleep(STAT_WAIT)
        self.disk_now = True
        self.check(retry=SHOW_WITHIN, what='after %s: ' % self.steps[-1])

    def smaller_value(self, candidates):
        """The first candidate that encodes smaller than the file now."""
        size = len(self.disk_bytes()) if self.present else 0
        for v in candidates:
            if len(encode(v, self.cfg.proto, self.cfg.comp)) < size:
                return v
        return None
