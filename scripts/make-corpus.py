#!/usr/bin/env python3
"""make-corpus.py OUTDIR - harvest CPython's own pickle test corpus.

Runs the pickle test classes of test.pickletester (package
libpython3.11-testsuite) the way Lib/test/test_pickle.py does for the C
implementation (pickle.dumps / _pickle.Pickler / _pickle.Unpickler), with
every dump wrapped so that each pickle the tests write is saved, and every
load wrapped so that each input the tests feed the unpickler is saved with
the exception CPython raised, if any.

Writes:
  OUTDIR/good/NNNN.pkl    distinct (by SHA-256) pickles that the tests wrote
                          (tier "identical": CPython 3.11's pickler wrote
                          them) or that the tests loaded successfully or the
                          module defines as DATA* constants (tier "literal":
                          hand-written bytes, Python 2 output)
  OUTDIR/good/MANIFEST    file, tier, load, source (TAB separated); load is
                          "ok" (loads stand-alone with pycheck.py),
                          "ok:latin1" (needs encoding='latin1') or
                          "noload:<exception>" (needs state only the test
                          had: a class defined inside a test, a copyreg
                          extension code ...; still a valid pickle)
  OUTDIR/bad/NNNN.pkl     distinct inputs CPython's unpickler refused
  OUTDIR/bad/MANIFEST     file, class, CPython exception, source, reason;
                          class is "structural" (the non-executing stack
                          machine of pycheck.py, class PickleVM, refuses it:
                          our decoder must refuse it) or "semantic" (the
                          machine accepts it; CPython failed only when it
                          imported, called or type-checked something, or
                          lacked persistent_load/buffers: our decoder may
                          accept or refuse, but must not crash)
  OUTDIR/SKIPPED          what was left out, and why
  OUTDIR/SUMMARY          the counts

Runs with PYTHONHASHSEED=0 and a seeded random module, so the corpus is the
same from run to run except for the few pickles of test_structseq, which
pickles time.localtime() and os.stat() results.
"""

import sys
sys.dont_write_bytecode = True     # keep the source tree free of __pycache__

import collections
import hashlib
import io
import os
import pickle
import random
import struct
import subprocess
import sys
import tempfile
import unittest
import warnings

import _pickle

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pycheck  # noqa: E402

PYTHON = os.environ.get('PYTHON', '/usr/bin/python3')

CURRENT = ['<module>']
# sha -> dict(data, origin, sources(list), kwargs)
GOOD = collections.OrderedDict()
# sha -> dict(data, exc, sources, kwargs)
BAD = collections.OrderedDict()
ORIGIN_RANK = {'dumps': 0, 'const': 1, 'loads': 2}


def _short_id(test_id):
    parts = test_id.split('.')
    return '.'.join(parts[-2:]) if len(parts) >= 2 else test_id


def note_good(data, origin, kwargs=None):
    data = bytes(data)
    h = hashlib.sha256(data).hexdigest()
    src = _short_id(CURRENT[0])
    e = GOOD.get(h)
    if e is None:
        GOOD[h] = {'data': data, 'origin': origin, 'sources': [src],
                   'kwargs': dict(kwargs or {})}
        return
    if ORIGIN_RANK[origin] < ORIGIN_RANK[e['origin']]:
        e['origin'] = origin
        e['sources'].insert(0, src)
    elif src not in e['sources']:
        e['sources'].append(src)


def note_bad(data, exc, kwargs):
    data = bytes(data)
    h = hashlib.sha256(data).hexdigest()
    src = _short_id(CURRENT[0])
    e = BAD.get(h)
    if e is None:
        BAD[h] = {'data': data, 'exc': '%s: %s' % (type(exc).__name__, exc),
                  'sources': [src], 'kwargs': dict(kwargs or {})}
    elif src not in e['sources']:
        e['sources'].append(src)


def _kw_summary(kwargs):
    out = {}
    for k, v in kwargs.items():
        out[k] = v if isinstance(v, (str, int, bool, type(None))) else type(v).__name__
    return out


def rec_loads(real):
    def loads(buf, *args, **kwargs):
        data = bytes(buf) if isinstance(buf, (bytes, bytearray, memoryview)) else None
        try:
            result = real(buf, *args, **kwargs)
        except BaseException as exc:
            if data is not None and not isinstance(exc, KeyboardInterrupt):
                note_bad(data, exc, _kw_summary(kwargs))
            raise
        if data is not None:
            note_good(data, 'loads', _kw_summary(kwargs))
        return result
    return loads


def rec_load(real):
    def load(file, *args, **kwargs):
        data = None
        if isinstance(file, io.BytesIO):
            data = file.getvalue()[file.tell():]
        try:
            return real(file, *args, **kwargs)
        except BaseException as exc:
            if data is not None and not isinstance(exc, KeyboardInterrupt):
                note_bad(data, exc, _kw_summary(kwargs))
            raise
    return load


def rec_dumps(obj, protocol=None, *args, **kwargs):
    data = _pickle.dumps(obj, protocol, *args, **kwargs)
    note_good(data, 'dumps')
    return data


def rec_dump(obj, file, protocol=None, *args, **kwargs):
    data = _pickle.dumps(obj, protocol, *args, **kwargs)
    note_good(data, 'dumps')
    file.write(data)


class Tee:
    """The file a recording pickler writes to: keeps a copy of the bytes."""

    def __init__(self, f):
        self.f = f
        self.buf = bytearray()

    def write(self, b):
        self.buf += bytes(b)
        return self.f.write(b)


class RecPickler(_pickle.Pickler):
    """_pickle.Pickler that records every pickle it dumps."""

    def __init__(self, file, *args, **kwargs):
        self._rec_tee = Tee(file)
        super().__init__(self._rec_tee, *args, **kwargs)

    def dump(self, obj):
        tee = getattr(self, '_rec_tee', None)     # None: __init__ not called
        if tee is not None:
            tee.buf.clear()
        super().dump(obj)
        if tee is not None:
            note_good(tee.buf, 'dumps')


class RecUnpickler(_pickle.Unpickler):
    """_pickle.Unpickler that records the input it fails on."""

    def __init__(self, file, *args, **kwargs):
        self._rec_data = None
        if isinstance(file, io.BytesIO):
            self._rec_data = file.getvalue()[file.tell():]
        self._rec_kwargs = _kw_summary(kwargs)
        super().__init__(file, *args, **kwargs)

    def load(self):
        data = getattr(self, '_rec_data', None)     # None: __init__ not called
        try:
            return super().load()
        except BaseException as exc:
            if data is not None and not isinstance(exc, KeyboardInterrupt):
                note_bad(data, exc, self._rec_kwargs)
            raise


def build_suite():
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        from test import pickletester as pt

    truncated = (pickle.UnpicklingError, EOFError, AttributeError, ValueError,
                 struct.error, IndexError, ImportError)

    class InMemoryPickleTests(pt.AbstractPickleTests, pt.AbstractUnpickleTests,
                              unittest.TestCase):
        # test_pickle.InMemoryPickleTests: module-level dumps/loads (C)
        bad_stack_errors = (pickle.UnpicklingError, IndexError)
        truncated_errors = truncated

        def dumps(self, arg, protocol=None, **kwargs):
            return rec_dumps(arg, protocol, **kwargs)

        def loads(self, buf, **kwds):
            return rec_loads(_pickle.loads)(buf, **kwds)

        test_framed_write_sizes_with_delayed_writer = None

    class CPicklerTests(pt.AbstractPickleTests, unittest.TestCase):
        # test_pickle.CPicklerTests: _pickle.Pickler/_pickle.Unpickler on files
        pickler = RecPickler
        unpickler = RecUnpickler

        def dumps(self, arg, proto=None, **kwargs):
            f = io.BytesIO()
            p = self.pickler(f, proto, **kwargs)
            p.dump(arg)
            f.seek(0)
            return bytes(f.read())

        def loads(self, buf, **kwds):
            f = io.BytesIO(buf)
            u = self.unpickler(f, **kwds)
            return u.load()

    class CUnpicklerTests(pt.AbstractUnpickleTests, unittest.TestCase):
        # test_pickle.CUnpicklerTests
        unpickler = RecUnpickler
        bad_stack_errors = (pickle.UnpicklingError,)
        truncated_errors = (pickle.UnpicklingError,)

        def loads(self, buf, **kwds):
            f = io.BytesIO(buf)
            u = self.unpickler(f, **kwds)
            result = u.load()
            note_good(buf, 'loads', _kw_summary(kwds))
            return result

    class CPickleTests(pt.AbstractPickleModuleTests, unittest.TestCase):
        dump = staticmethod(rec_dump)
        dumps = staticmethod(rec_dumps)
        load = staticmethod(rec_load(_pickle.load))
        loads = staticmethod(rec_loads(_pickle.loads))
        Pickler = RecPickler
        Unpickler = RecUnpickler

    class PersistentMixin(object):
        def dumps(self, arg, proto=None):
            class PersPickler(self.pickler):
                def persistent_id(subself, obj):
                    return self.persistent_id(obj)
            f = io.BytesIO()
            p = PersPickler(f, proto)
            p.dump(arg)
            return f.getvalue()

        def loads(self, buf, **kwds):
            class PersUnpickler(self.unpickler):
                def persistent_load(subself, obj):
                    return self.persistent_load(obj)
            f = io.BytesIO(buf)
            u = PersUnpickler(f, **kwds)
            return u.load()

    class CPersPicklerTests(pt.AbstractPersistentPicklerTests, PersistentMixin,
                            unittest.TestCase):
        pickler = RecPickler
        unpickler = RecUnpickler

    class CIdPersPicklerTests(pt.AbstractIdentityPersistentPicklerTests,
                              PersistentMixin, unittest.TestCase):
        pickler = RecPickler
        unpickler = RecUnpickler

    class CPicklerUnpicklerObjectTests(pt.AbstractPicklerUnpicklerObjectTests,
                                       unittest.TestCase):
        pickler_class = RecPickler
        unpickler_class = _pickle.Unpickler

    class CDispatchTableTests(pt.AbstractDispatchTableTests, unittest.TestCase):
        pickler_class = RecPickler

        def get_dispatch_table(self):
            return pickle.dispatch_table.copy()

    class CChainDispatchTableTests(pt.AbstractDispatchTableTests, unittest.TestCase):
        pickler_class = RecPickler

        def get_dispatch_table(self):
            return collections.ChainMap({}, pickle.dispatch_table)

    class CustomRecPickler(RecPickler, pt.AbstractCustomPicklerClass):
        pass

    class CPicklerHookTests(pt.AbstractHookTests, unittest.TestCase):
        pickler_class = CustomRecPickler

    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    for cls in (InMemoryPickleTests, CPicklerTests, CUnpicklerTests, CPickleTests,
                CPersPicklerTests, CIdPersPicklerTests,
                CPicklerUnpicklerObjectTests, CDispatchTableTests,
                CChainDispatchTableTests, CPicklerHookTests):
        suite.addTests(loader.loadTestsFromTestCase(cls))
    return pt, suite


class RecordingResult(unittest.TestResult):
    def startTest(self, test):
        CURRENT[0] = test.id()
        super().startTest(test)

    def stopTest(self, test):
        super().stopTest(test)
        CURRENT[0] = '<between tests>'


def harvest():
    pt, suite = build_suite()
    # Pickles the tests write with the module functions directly.
    real_dumps, real_dump = pickle.dumps, pickle.dump
    pickle.dumps, pickle.dump = rec_dumps, rec_dump
    result = RecordingResult()
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory(prefix='make-corpus-') as tmp:
        os.chdir(tmp)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                suite.run(result)
        finally:
            os.chdir(cwd)
            pickle.dumps, pickle.dump = real_dumps, real_dump
    # The module's hand-written pickles.
    CURRENT[0] = 'pickletester.<constants>'
    for name in sorted(dir(pt)):
        value = getattr(pt, name)
        if name.startswith('DATA') and isinstance(value, bytes):
            CURRENT[0] = 'pickletester.' + name
            note_good(value, 'const')
    return result


def write_numbered(directory, items):
    os.makedirs(directory, exist_ok=True)
    for f in os.listdir(directory):
        os.unlink(os.path.join(directory, f))
    names = []
    for i, data in enumerate(items, 1):
        name = '%04d.pkl' % i
        with open(os.path.join(directory, name), 'wb') as f:
            f.write(data)
        names.append(name)
    return names


def clean(s, limit=200):
    s = s.replace('\t', ' ').replace('\n', '\\n').replace('\r', '\\r')
    return s if len(s) <= limit else s[:limit] + '...'


def sources(e):
    s = e['sources']
    return s[0] + (' (+%d more)' % (len(s) - 1) if len(s) > 1 else '')


def check_loads(directory, names):
    """Runs pycheck.py loads on every file in a fresh interpreter; returns
    {name: None or reason}.  Falls back to one process per file if a batch
    interpreter dies."""
    cmd = [PYTHON, os.path.join(HERE, 'pycheck.py'), 'batch']
    results = {}
    lines = ''.join('loads\t%s\n' % os.path.join(directory, n) for n in names)
    p = subprocess.run(cmd, input=lines, capture_output=True, text=True)
    for line in p.stdout.splitlines():
        parts = line.split('\t')
        path = parts[2]
        results[os.path.basename(path)] = None if parts[0] == 'ok' else parts[3]
    for n in names:
        if n not in results:
            q = subprocess.run(cmd, input='loads\t%s\n' % os.path.join(directory, n),
                               capture_output=True, text=True)
            parts = q.stdout.split('\t')
            if q.stdout.startswith('ok'):
                results[n] = None
            elif len(parts) > 3:
                results[n] = parts[3].strip()
            else:
                results[n] = 'interpreter died (rc %d)' % q.returncode
    return results


def latin1_needed(path):
    data = pycheck.pickle_bytes(path)
    try:
        pickle.loads(data)
        return False
    except UnicodeDecodeError:
        return True
    except Exception:
        return False


def main(argv):
    if len(argv) != 2:
        sys.stderr.write('usage: make-corpus.py OUTDIR\n')
        return 2
    out = argv[1]
    os.makedirs(out, exist_ok=True)
    random.seed(20240601)       # test_evil_class_mutating_dict uses random
    result = harvest()
    sys.stdout.write('make-corpus: ran %d tests: %d failures, %d errors, %d skipped\n'
                     % (result.testsRun, len(result.failures), len(result.errors),
                        len(result.skipped)))
    for test, tb in result.failures + result.errors:
        sys.stderr.write('make-corpus: test problem in %s: %s\n'
                         % (test.id(), tb.strip().splitlines()[-1]))

    skipped = []
    good = []
    for h, e in GOOD.items():
        data = e['data']
        why = None
        try:
            ops = [name for _, name, _ in pycheck.OpReader(data).ops()]
        except pycheck.Refused:
            ops = []
        if 'PERSID' in ops or 'BINPERSID' in ops:
            why = 'persistent_id: needs the test\'s persistent_load'
        elif 'NEXT_BUFFER' in ops:
            why = 'buffer_callback: out-of-band buffers are not in the pickle'
        else:
            try:
                end, _ = pycheck.PickleVM(data).run()
                if end != len(data):
                    why = 'trailing data after STOP (%d bytes)' % (len(data) - end)
            except pycheck.Refused as r:
                why = 'not a stand-alone pickle: %s' % r
        if why:
            skipped.append(('good', h, why, sources(e)))
        else:
            good.append(e)

    gdir = os.path.join(out, 'good')
    names = write_numbered(gdir, [e['data'] for e in good])
    loads = check_loads(gdir, names)
    tiers = collections.Counter()
    loadc = collections.Counter()
    with open(os.path.join(gdir, 'MANIFEST'), 'w') as m:
        m.write('# file\ttier\tload\tsource (test that first wrote or loaded it)\n'
                '# tier identical: written by CPython 3.11\'s pickler: a roundtrip must '
                'be byte-identical\n'
                '# tier literal: hand-written in the tests (Python 2 output, edge '
                'cases): a roundtrip must load equal and keep the opcode form\n')
        for n, e in zip(names, good):
            tier = 'identical' if e['origin'] == 'dumps' else 'literal'
            why = loads[n]
            if why is None:
                load = 'ok:latin1' if latin1_needed(os.path.join(gdir, n)) else 'ok'
            else:
                load = 'noload:' + clean(why.split(':')[0], 60)
            tiers[tier] += 1
            loadc[load.split(':')[0] if load.startswith('noload') else load] += 1
            m.write('%s\t%s\t%s\t%s\n' % (n, tier, load, clean(sources(e))))

    bad = list(BAD.items())
    classes = collections.Counter()
    disagree = []
    bdir = os.path.join(out, 'bad')
    names = write_numbered(bdir, [e['data'] for _, e in bad])
    with open(os.path.join(bdir, 'MANIFEST'), 'w') as m:
        m.write('# file\tclass\tCPython exception (in the test)\tsource\treason\n'
                '# structural: refused by the non-executing stack machine '
                '(pycheck.py PickleVM): must be refused\n'
                '# semantic: accepted by it; CPython failed only on executing '
                'or needs external data: must not crash\n')
        for n, (h, e) in zip(names, bad):
            r = pycheck.vm_check(e['data'])
            cls = 'semantic' if r is None else 'structural'
            reason = str(r) if r else 'stack machine accepts it'
            inert = pycheck.inert_load(e['data'])
            if (inert is None) != (r is None):
                disagree.append('%s: vm %s, CPython with execution neutralised %s'
                                % (n, cls, 'accepts' if inert is None else
                                   'refuses (%s: %s)' % (type(inert).__name__, inert)))
            classes[cls] += 1
            m.write('%s\t%s\t%s\t%s\t%s\n' % (n, cls, clean(e['exc']), clean(sources(e)),
                                              clean(reason)))

    overlap = set(GOOD) & set(BAD)
    with open(os.path.join(out, 'SKIPPED'), 'w') as s:
        s.write('# set\tsha256\treason\tsource\n')
        for row in skipped:
            s.write('\t'.join(clean(x) for x in row) + '\n')
    why_counts = collections.Counter(r[2].split(':')[0] for r in skipped)
    summary = [
        'tests run: %d (failures %d, errors %d, skipped %d)' % (
            result.testsRun, len(result.failures), len(result.errors), len(result.skipped)),
        'good: %d (%s) load: %s' % (len(good), ', '.join('%s %d' % kv for kv in sorted(tiers.items())),
                                     ', '.join('%s %d' % kv for kv in sorted(loadc.items()))),
        'bad: %d (%s)' % (len(bad), ', '.join('%s %d' % kv for kv in sorted(classes.items()))),
        'skipped: %d (%s)' % (len(skipped), ', '.join('%s %d' % kv for kv in sorted(why_counts.items()))),
        'inputs both loaded and refused (different arguments): %d' % len(overlap),
    ]
    if disagree:
        summary.append('stack machine vs CPython-with-execution-neutralised disagreements: %d'
                       ' (expected where CPython type-checks a value: REDUCE/NEWOBJ'
                       ' arguments, a non-callable; those are semantic by rule)'
                       % len(disagree))
        summary += ['  ' + d for d in disagree]
    with open(os.path.join(out, 'SUMMARY'), 'w') as s:
        s.write('\n'.join(summary) + '\n')
    for line in summary:
        sys.stdout.write('make-corpus: %s\n' % line)
    return 0


if __name__ == '__main__':
    if os.environ.get('PYTHONHASHSEED') != '0':
        # set and dict-of-str iteration order, hence the pickles, must not
        # change from run to run
        os.environ['PYTHONHASHSEED'] = '0'
        os.execv(sys.executable, [sys.executable] + sys.argv)
    sys.exit(main(sys.argv))
