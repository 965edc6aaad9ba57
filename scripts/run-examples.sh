#!/usr/bin/env bash
# make run: makes the bundled example pickles, mounts them and shows how
# to look around. Leaves the mount in place for you to explore.
#
#   PYTHON=/usr/bin/python3 bash scripts/run-examples.sh [EXAMPLES MOUNTPOINT]
set -eu

PYTHON=${PYTHON:-/usr/bin/python3}
BUILD=${BUILD:-build}
cd "$(dirname "$0")/.."
SRC=${1:-$PWD/$BUILD/examples}
MNT=${2:-$PWD/$BUILD/mnt}

"$PYTHON" scripts/make-examples.py "$SRC"
mkdir -p "$MNT"
if grep -q " $MNT fuse" /proc/mounts; then
	fusermount3 -u "$MNT"
fi
"$BUILD/picklefs" "$SRC" "$MNT"

cat <<MSG

picklefs: the examples in $SRC are mounted on $MNT

  ls $MNT                                # every pickle is a directory
  ls -f $MNT/alumnos                     # keys in insertion order
  cat $MNT/alumnos/Jose                  # 7
  cat $MNT/compress_alumnos/Arnoldo      # bzip2, read on the fly
  cat $MNT/mnist.pkl.gz/0/0/shape        # (500, 784)
  cat $MNT/mnist.pkl.gz/0/0/dtype        # <f4 (the raw bytes are in data)
  head -c 80 $MNT/mnist.pkl.gz/0/1/values.txt   # the labels as text
  python3 -c "import numpy as np; print(np.load('$MNT/mnist.pkl.gz/0/0/array.npy').shape)"
  ls -f $MNT/dataframe.pkl               # the columns, __index__, __frame__.csv, __raw__
  cat $MNT/dataframe.pkl/__frame__.csv   # the frame as CSV
  cat $MNT/model.pkl/__class__           # examples.Model
  ls -l $MNT/shared.pkl                  # shared values are symlinks
  getfattr -d $MNT/alumnos/Jose          # user.pickle.type="int" ...
  tree $MNT/alumnos; grep -r Arnoldo $MNT; du -sh $MNT

unmount with:

  fusermount3 -u $MNT

MSG
ls -l "$MNT"
echo
echo "\$ cat $MNT/alumnos/Jose"
cat "$MNT/alumnos/Jose"
