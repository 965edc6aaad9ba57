"""Walks a deeply nested pickle in a mount level by level, as a user
would with cd and ls: at each level list the directory, stat every
entry, and go down into the entry named `a`. Prints the levels walked
and the daemon's resident and peak memory (kB) before and after.

    depth_walk.py MOUNTED_PICKLE_DIR DAEMON_PID
"""
import os
import sys


def mem(pid):
    got = {}
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            k, _, v = line.partition(':')
            if k in ('VmRSS', 'VmHWM'):
                got[k] = int(v.split()[0])
    return got['VmRSS'], got['VmHWM']


def main():
    top, pid = sys.argv[1], int(sys.argv[2])
    os.chdir(top)
    rss0, _ = mem(pid)
    levels = 0
    while True:
        names = os.listdir('.')
        for n in names:
            os.lstat(n)
        if 'a' not in names or not os.path.isdir('a'):
            break
        os.chdir('a')
        levels += 1
    rss1, hwm = mem(pid)
    print(levels, rss0, rss1, hwm)


main()
