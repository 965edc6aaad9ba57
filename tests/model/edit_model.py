#!/usr/bin/python3
"""edit_model.py - model-based test of picklefs's write side (Hypothesis
stateful testing) against real mounts of the ASan picklefs.

  edit_model.py [GROUP ...]       default: every group

Each group is one Hypothesis state machine run over one kind of mount:

  file        file SOURCE, write-back at close
  folder      folder SOURCE, write-back at close (also: the pickle deleted
              and re-created from outside)
  file-wb     file SOURCE, -o writeback=1
  folder-wb   folder SOURCE, -o writeback=1

Each example draws a protocol (0, 2, 5), a compression (none, gzip,
bzip2) and a starting value, mounts it, runs up to MODEL_STEPS steps of
model_lib.Driver (every edit with a real tool, every check after every
step), and unmounts (the exit status and the log's sanitizer reports are
checked, and the pickle after unmount). Environment:

  MODEL_EXAMPLES   examples per group (default: 60 file, 40 folder, 30 each wb)
  MODEL_STEPS      steps per example (default 20)
  MODEL_AVOID      known failures to step around, to find others (below)
  MODEL_SHRINK_SECONDS  time to spend shrinking failures (default 20;
                   a minimal counterexample may need 120)
  MODEL_SEED       set to search with random examples (default: derandomized,
                   so CI runs the same examples every time)

Prints, per group, the examples and steps run and, for a failure, the
minimal failing sequence as the Driver calls that replay it (paste it into
regressions.py). Ends with "model-hypothesis: N passed, N failed" (a group
without failure counts one passed, each distinct failure one failed).
"""

import os
import sys
import time
import traceback

# Hypothesis keeps its files in the run's folder, not in the work tree
os.environ.setdefault('HYPOTHESIS_STORAGE_DIRECTORY', os.path.join(
    os.environ.get('MODEL_WORK') or '/tmp', '.hypothesis'))

from hypothesis import HealthCheck, Phase, settings, strategies as st  # noqa: E402
from hypothesis.stateful import (RuleBasedStateMachine, initialize,  # noqa: E402
                                 precondition, rule, run_state_machine_as_test)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model_lib as M  # noqa: E402

SHRINK_SECONDS = float(os.environ.get('MODEL_SHRINK_SECONDS', '20'))
try:  # bound the time spent shrinking (Hypothesis' own bound is 300 s)
    from hypothesis.internal.conjecture import engine as _engine

    def _set_deadline(self, v):
        self.__dict__['_model_fsd'] = None if v is None else v - 300 + SHRINK_SECONDS

    _engine.ConjectureRunner.finish_shrinking_deadline = property(
        lambda self: self.__dict__.get('_model_fsd'), _set_deadline)
except Exception:  # noqa: BLE001
    pass

# MODEL_AVOID=list-rm: no step that fails on positional list names (rm of
# a list item other than the last, rm -r of a list of 2 or more, a removed
# open file in a list), to look for failures behind that one;
# MODEL_AVOID=removed: no removed_write step; MODEL_AVOID=empty-bytes: no
# b'' (protocols 0-2 pickle it as a call, bytes()); MODEL_AVOID=fsync: no
# fsync step (and settle -o writeback by waiting); MODEL_AVOID=folder-temp:
# ignore .NAME.pkfs-XXXXXX in a folder mount's listing;
# MODEL_AVOID=read-during-write: no read_during_write step;
# MODEL_AVOID=invalid-split: read_during_write with valid text only
AVOID = set(filter(None, os.environ.get('MODEL_AVOID', '').split(',')))

# ---------------------------------------------------------------- strategies
KEYS = ['a', 'b', 'c', 'd', 'k1', 'k2', 'x', 'y', 'zz', 'name', 'v9']
NEW_KEYS = KEYS + ['new', 'w2']
# letters that make no literal (no e j n a i f l t: 1e5, 2j, inf, nan,
# True, None ...), spaces only inside
LETTERS = 'bcdgkmopqrsuvwxyzñü'
BYTES_TEXT = 'abcXYZ019 .-\t'

ints = st.integers(-10 ** 22, 10 ** 22) | st.integers(-300, 300)
floats = st.floats(allow_nan=False, allow_infinity=False) | \
    st.sampled_from([0.1, 2.5, -0.0, 1e+100, 1e-07, 3.0])
words = st.text(LETTERS, min_size=1, max_size=5)
strs = st.one_of(
    st.just(''),
    st.builds(lambda a, b: a + b, words, st.just('') | words.map(lambda w: ' ' + w)),
    st.integers(0, 999).map(str))
complexes = st.builds(complex, st.integers(-9, 9), st.integers(-9, 9))
binaries = st.binary(min_size=1 if 'empty-bytes' in AVOID else 0, max_size=6)
scalars = st.one_of(ints, floats, st.booleans(), st.none(), strs,
                    binaries, complexes)
NOT_BYTES = st.one_of(ints, floats, st.booleans(), st.none(), strs, complexes)
lists = st.lists(scalars, max_size=5)
inner_dicts = st.dictionaries(st.sampled_from(KEYS), scalars, max_size=3)
tops = st.builds(
    lambda l, rest: dict({'l': l}, **{k: v for k, v in rest.items() if k != 'l'}),
    st.lists(ints, max_size=5),
    st.dictionaries(st.sampled_from(KEYS), scalars | lists | inner_dicts,
                    max_size=4))

VALUES = {'int': ints, 'float': floats, 'bool': st.booleans(),
          'none': st.none(), 'str': strs, 'bytes': binaries,
          'complex': complexes}
INVALID = {'int': ['abc', '', '12x', '--1', '1e', '(1+2j)'],
           'float': ['abc', '1.2.3', '', 'x1', '(1+2j)'],
           'bool': ['yes', 'true', '', '1e'],
           'complex': ['abc', '(1+2j', 'j1']}
# texts that widen the value (README "Numbers widen"): bool -> int ->
# float; None becomes whatever a new file with the text would be
WIDER = {'bool': st.one_of(ints, floats), 'int': floats,
         'none': st.one_of(ints, floats, st.booleans(), strs)}


def text_for(v):
    """The text a tool writes for the value (echo, sed, vim add \\n)."""
    if isinstance(v, bytes):
        return v.decode('latin-1')
    return M.text_of(v).decode()[:-1] if v != '' else ''


# ---------------------------------------------------------------- machine

class EditMachine(RuleBasedStateMachine):
    source = 'file'
    writeback = 0
    examples = 0

    def __init__(self):
        super().__init__()
        self.d = None
        self.slow = 0  # outside rewrites, remounts and waits (1 s or more each)

    @initialize(proto=st.sampled_from([0, 2, 5]),
                comp=st.sampled_from(['none', 'gzip', 'bzip2']),
                initial=tops)
    def start(self, proto, comp, initial):
        type(self).examples += 1
        self.d = M.Driver(M.Config(self.source, proto, comp, self.writeback), initial)

    def teardown(self):
        if self.d is not None:
            self.d.close()

    def ok(self):
        return self.d is not None and self.d.present

    # -------------------------------------------------- writing a scalar
    @precondition(lambda self: self.ok() and self.d.scalars())
    @rule(data=st.data())
    def write(self, data):
        d = self.d
        path = data.draw(st.sampled_from(d.scalars()), 'path')
        old = d.node(path)[2]
        t = M.type_name(old)
        single = M.text_of(old).count(b'\n') == 1 and M.text_of(old).endswith(b'\n')
        tools = ['echo', 'python', 'replace']
        if single and t != 'bytes':
            tools += ['sed', 'vim', 'vimbak']
        tool = data.draw(st.sampled_from(tools), 'tool')
        if t in INVALID and tool in ('echo', 'python', 'replace') and \
                data.draw(st.integers(0, 4), 'invalid?') == 0:
            text = data.draw(st.sampled_from(INVALID[t]), 'text')
        elif t == 'bytes':
            text = data.draw(st.text(BYTES_TEXT, max_size=6), 'text')
        else:
            v = data.draw(VALUES[t] if t not in WIDER else
                          st.one_of(VALUES[t], WIDER[t]), 'value')
            text = text_for(v)
            if tool in ('python', 'replace'):
                text += data.draw(st.sampled_from(['\n', '', '\n\n']), 'end')
        d.write(path, tool, text)

    @precondition(lambda self: self.ok() and self.d.scalars(('str', 'int', 'float', 'bool', 'none'))
                  and 'read-during-write' not in AVOID)
    @rule(data=st.data())
    def read_during_write(self, data):
        d = self.d
        path = data.draw(st.sampled_from(d.scalars(('str', 'int', 'float', 'bool', 'none'))), 'path')
        t = M.type_name(d.node(path)[2])
        if t in INVALID and 'invalid-split' not in AVOID and \
                data.draw(st.integers(0, 3), 'invalid?') == 0:
            text = data.draw(st.sampled_from(INVALID[t]), 'text') + '\n'
        else:
            text = text_for(data.draw(VALUES[t] if t not in WIDER else
                                      st.one_of(VALUES[t], WIDER[t]), 'value')) + '\n'
        n = len(text.encode())
        d.read_during_write(path, text, data.draw(st.integers(0, n), 'split'))

    @precondition(lambda self: self.ok() and self.d.scalars(('str', 'int', 'bytes', 'float', 'bool')))
    @rule(data=st.data())
    def truncate(self, data):
        d = self.d
        path = data.draw(st.sampled_from(d.scalars(('str', 'int', 'bytes', 'float', 'bool'))), 'path')
        n = len(M.text_of(d.node(path)[2]))
        d.truncate(path, data.draw(st.integers(0, n), 'size'))

    @precondition(lambda self: self.ok() and self.d.scalars(('int', 'str', 'float', 'bool', 'none')))
    @rule(data=st.data())
    def setfattr(self, data):
        d = self.d
        path = data.draw(st.sampled_from(d.scalars(('int', 'str', 'float', 'bool', 'none'))), 'path')
        old = M.type_name(d.node(path)[2])
        t = data.draw(st.sampled_from([x for x in ('int', 'str', 'float') if x != old]), 'type')
        d.setfattr(path, t)

    # -------------------------------------------------- structure
    @precondition(lambda self: self.ok())
    @rule(data=st.data())
    def create(self, data):
        d = self.d
        dpath = data.draw(st.sampled_from(d.dirs()), 'dir')
        node = d.node(dpath)[2]
        if node.kind == 'dict':
            free = [k for k in NEW_KEYS if node.index(k) is None]
            if not free:
                return
            name = data.draw(st.sampled_from(free), 'name')
        else:
            nxt = int(node.next_name())
            bad = [str(nxt + 1), 'x'] + [str(i) for i in range(nxt)
                                         if node.index(str(i)) is None]
            name = data.draw(st.sampled_from([str(nxt)] * 3 + bad), 'name')
        v = data.draw(NOT_BYTES, 'value')
        tool = data.draw(st.sampled_from(['echo', 'python']), 'tool')
        d.create(dpath, name, tool, text_for(v) + ('\n' if tool == 'python' else ''))

    @precondition(lambda self: self.ok())
    @rule(data=st.data())
    def mkdir(self, data):
        d = self.d
        dpath = data.draw(st.sampled_from(d.dirs()), 'dir')
        node = d.node(dpath)[2]
        if node.kind == 'dict':
            free = [k for k in NEW_KEYS if node.index(k) is None]
            if not free:
                return
            name = data.draw(st.sampled_from(free), 'name')
        else:
            nxt = int(node.next_name())
            name = data.draw(st.sampled_from([str(nxt), str(nxt), str(nxt + 2)]), 'name')
        d.mkdir(dpath, name)

    @precondition(lambda self: self.ok() and len(list(self.d.walk())) > 1)
    @rule(data=st.data())
    def rm(self, data):
        d = self.d
        paths = [p for p, _n in d.walk() if p]
        if 'list-rm' in AVOID:
            paths = [p for p in paths if self.positional_safe(p)]
            if not paths:
                return
        d.rm(data.draw(st.sampled_from(paths), 'path'))

    @precondition(lambda self: self.ok())
    @rule(data=st.data())
    def mv(self, data):
        d = self.d
        dpath = data.draw(st.sampled_from(d.dirs('dict')), 'dir')
        node = d.node(dpath)[2]
        if not node.entries:
            return
        a = data.draw(st.sampled_from(node.names()), 'a')
        an = node.entries[node.index(a)][2]
        targets = [k for k in NEW_KEYS if node.index(k) is None]
        if not isinstance(an, M.Dir) and not isinstance(an, bytes):
            for name, _k, bn in node.entries:
                if name == a or isinstance(bn, (M.Dir, bytes)):
                    continue
                try:
                    M.parse(M.text_of(an), M.type_name(bn))
                    targets.append(name)
                except M.Invalid:
                    pass
        if not targets:
            return
        d.mv(dpath, a, data.draw(st.sampled_from(targets), 'b'))

    def positional_safe(self, path):
        """rm of path works even where names are positions."""
        d = self.d
        parent = d.node(path[:-1])[2]
        if parent.kind == 'list' and parent.names()[-1] != path[-1]:
            return False
        return all(len(n.entries) < 2 for _p, n in d.walk(d.node(path)[2])
                   if isinstance(n, M.Dir) and n.kind == 'list')

    # -------------------------------------------------- concurrency
    @precondition(lambda self: self.ok() and self.d.scalars(('int', 'str', 'float'))
                  and 'removed' not in AVOID)
    @rule(data=st.data())
    def removed_write(self, data):
        d = self.d
        path = data.draw(st.sampled_from(d.scalars(('int', 'str', 'float'))), 'path')
        parent = d.node(path[:-1])[2]
        before = parent.names()[:parent.index(path[-1])]
        sib = None
        if 'list-rm' in AVOID and not self.positional_safe(path):
            return
        if 'list-rm' in AVOID:
            before = [] if parent.kind == 'list' else \
                [b for b in before if self.positional_safe(path[:-1] + (b,))]
        if before and data.draw(st.booleans(), 'sibling?'):
            sib = path[:-1] + (data.draw(st.sampled_from(before), 'sibling'),)
        t = M.type_name(d.node(path)[2])
        d.removed_write(path, sib, text_for(data.draw(VALUES[t], 'value')) + '\n')

    # -------------------------------------------------- write-back, outside
    @precondition(lambda self: self.ok() and self.writeback and self.d.scalars()
                  and 'fsync' not in AVOID)
    @rule(data=st.data())
    def fsync(self, data):
        self.d.fsync(data.draw(st.sampled_from(self.d.scalars()), 'path'))

    @precondition(lambda self: self.d is not None and self.writeback and self.slow < 1)
    @rule()
    def wait(self):
        self.slow += 1
        self.d.wait()

    @precondition(lambda self: self.d is not None and self.slow < 1)
    @rule()
    def remount(self):
        self.slow += 1
        self.d.remount()

    @precondition(lambda self: self.d is not None and (self.slow < 1 or not self.d.present))
    @rule(data=st.data(), value=tops, inplace=st.booleans())
    def outside(self, data, value, inplace):
        self.slow += 1
        d = self.d
        if inplace and d.present:
            cur = d.root.value()
            half = dict(list(cur.items())[:len(cur) // 2])
            v = d.smaller_value([value, half, {'l': []}, {}])
            if v is not None:
                d.outside(v, 'inplace')
                return
        d.outside(value, 'replace')

    @precondition(lambda self: self.ok() and self.source == 'folder' and self.slow < 1)
    @rule()
    def delete(self):
        self.slow += 1
        self.d.delete()


GROUPS = {  # name: SOURCE, -o writeback, default examples (the CI budget)
    'file': ('file', 0, 60),
    'folder': ('folder', 0, 40),
    'file-wb': ('file', 1, 30),
    'folder-wb': ('folder', 1, 30),
}


def run_group(name):
    source, wb, default_examples = GROUPS[name]
    examples = int(os.environ.get('MODEL_EXAMPLES', default_examples))
    steps = int(os.environ.get('MODEL_STEPS', '20'))
    seed = os.environ.get('MODEL_SEED')
    machine = type('EditMachine_' + name.replace('-', '_'), (EditMachine,),
                   {'source': source, 'writeback': wb, 'examples': 0})
    s = settings(max_examples=examples, stateful_step_count=steps,
                 deadline=None, database=None, derandomize=seed is None,
                 suppress_health_check=list(HealthCheck),
                 phases=[Phase.explicit, Phase.generate, Phase.shrink],
                 print_blob=False)
    M.Driver.steps_total = 0
    M.Driver.kinds = {}
    t0 = time.time()
    err = None
    try:
        run_state_machine_as_test(machine, settings=s)
    except Exception as e:  # noqa: BLE001
        err = e
    dt = time.time() - t0
    print('model-hypothesis %s: %d examples run, %d steps, %.0f s' % (
        name, machine.examples, M.Driver.steps_total, dt), flush=True)
    print('  steps by kind: %s' % ', '.join(
        '%s %d' % kv for kv in sorted(M.Driver.kinds.items())), flush=True)
    if err is None:
        return 1, 0
    errs = list(err.exceptions) if isinstance(err, BaseExceptionGroup) else [err]
    for e in errs:
        msg = str(e) if isinstance(e, M.ModelFailure) else \
            ''.join(traceback.format_exception(type(e), e, e.__traceback__))
        print('FAIL model %s: minimal failing example:\n%s' % (name, msg), flush=True)
    return 0, len(errs)


def main():
    groups = sys.argv[1:] or list(GROUPS)
    passed = failed = 0
    for g in groups:
        p, f = run_group(g)
        passed += p
        failed += f
    print('model-hypothesis: %d passed, %d failed' % (passed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
