#!/usr/bin/python3
"""dis-vs-pickletools.py PICKLETOOL PATH... - the C disassembler against
CPython's pickletools, on a fuzz corpus (offline: not part of a harness).

For every file under the PATHs (files or folders), compares what
`PICKLETOOL dis FILE` prints (run through `pickletool batch`, one process
for all files) with what pickletools.dis prints for the same bytes in this
Python (dis.h copies CPython 3.11's text): the same text, and success
(exit 0) exactly when pickletools raised nothing. When pickletools raises,
the C text must be the complete lines it printed first. Files that start like gzip
or bzip2 are skipped (pickletool would decompress them first).

Prints one line per difference and a summary "N files: N same, N differ,
N skipped"; exits 1 if any differ.

    make build/pickletool build/fuzz-dis
    build/fuzz-dis -max_total_time=600 build/fuzz-corpus/dis
    /usr/bin/python3 tests/fuzz/dis-vs-pickletools.py build/pickletool \\
        build/fuzz-corpus/dis
"""
import io
import os
import pickletools
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True


def files(paths):
    for p in paths:
        if os.path.isdir(p):
            for name in sorted(os.listdir(p)):
                f = os.path.join(p, name)
                if os.path.isfile(f):
                    yield f
        else:
            yield p


def compressed(data):
    return data[:2] == b"\x1f\x8b" or (
        data[:3] == b"BZh" and len(data) >= 4 and 0x31 <= data[3] <= 0x39)


def python_dis(data):
    """(finished, text printed, exception) of pickletools.dis(data)."""
    out = io.StringIO()
    try:
        pickletools.dis(data, out)
    except Exception as e:  # ValueError and the like; the text so far stays
        # without the "%5d: " dis() prints before it fails on a line (as
        # tests/fixtures/dis: dis.h prints complete lines only)
        text = out.getvalue()
        return False, text[:text.rfind("\n") + 1], "%s: %s" % (
            type(e).__name__, e)
    return True, out.getvalue(), ""


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    tool, paths = sys.argv[1], sys.argv[2:]
    todo, skipped = [], 0
    for f in files(paths):
        with open(f, "rb") as fh:
            data = fh.read()
        if compressed(data):
            skipped += 1
            continue
        todo.append((f, data))
    same = differ = 0
    with tempfile.TemporaryDirectory() as tmp:
        cmds = "".join("dis\t%s\t%s\n" % (os.path.abspath(f),
                                          os.path.join(tmp, "%d.txt" % i))
                       for i, (f, _) in enumerate(todo))
        res = subprocess.run([tool, "batch", "-t", "60"], input=cmds,
                             stdout=subprocess.PIPE, text=True)
        lines = res.stdout.splitlines()
        if len(lines) != len(todo):
            print("pickletool batch stopped after %d of %d files (crash or "
                  "timeout at %s)" % (len(lines), len(todo),
                                      todo[len(lines)][0]))
            sys.exit(1)
        for i, (f, data) in enumerate(todo):
            status, _, cmsg = lines[i].partition("\t")
            with open(os.path.join(tmp, "%d.txt" % i), "rb") as fh:
                ctext = fh.read().decode("utf-8", "surrogateescape")
            ok, ptext, perr = python_dis(data)
            if (status == "0") == ok and ctext == ptext:
                same += 1
                continue
            differ += 1
            where = next((k for k in range(min(len(ctext), len(ptext)))
                          if ctext[k] != ptext[k]),
                         min(len(ctext), len(ptext)))
            line = ptext.count("\n", 0, where) + 1
            print("%s: pickletool exit %s (%s), pickletools %s; text %s "
                  "(line %d)" % (f, status, cmsg or "-",
                                 "ok" if ok else perr,
                                 "same" if ctext == ptext else "differs",
                                 line))
    print("%d files: %d same, %d differ, %d skipped" %
          (same + differ + skipped, same, differ, skipped))
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
