/*
 * tool_tree.h - pickletool's commands over the mount's tree, without
 * FUSE: ls, get, set and find.
 *
 * What: each command opens FILE (anything picklefs takes as SOURCE) with
 * vfs.h's pf_fs_new, walks PATH one component at a time with
 * pf_fs_lookup and reads, lists or writes through the same functions the
 * FUSE layer calls, so names, contents and what an edit does or refuses
 * are the mount's. Edits are written back by pf_fs_stop, as at unmount.
 * Ownership: nothing outlives a command; every lookup is forgotten.
 * Invariant: nothing recurses (find keeps its own stack), so a pickle
 * nested a million deep costs memory, not C stack.
 *
 * Each returns the process's exit status: 0 ok, 1 an error (printed as
 * "pickletool: FILE/PATH: strerror", or the mount's message for a FILE
 * it cannot open), or PT_USAGE for a bad command line (the caller prints
 * the usage and exits 2). argv[0] is the command's name.
 */
#ifndef PT_TOOL_TREE_H
#define PT_TOOL_TREE_H

#define PT_USAGE (-1)

int pt_ls(int argc, char **argv);
int pt_get(int argc, char **argv);
int pt_set(int argc, char **argv);
int pt_find(int argc, char **argv);

#endif
