/*
 * The disk self-test (disktest=<blockdev> on the command line): writes a
 * fresh pattern over the first MiB of the blockdev with many requests in
 * flight and segment shapes that take every path of the driver (PRP lists,
 * page offsets, bounce buffers, requests split over several commands),
 * flushes, reads it back the same way and compares. Prints one line
 * "disktest: <name>: PASS ..." or "disktest: <name>: FAIL ...". It
 * destroys that MiB: for test partitions only.
 */
#ifndef CORE_DISKTEST_H
#define CORE_DISKTEST_H

void disktest_run(const char *name);

#endif
