/*
 * What a fuzz input is (tests/fuzz/fuzz_snapshot.c, and the seeds that
 * tests/fuzz/fuzz_seeds.c writes). The first byte chooses:
 *
 *   FUZZ_MODE_RAW      the rest is a snapshot as bytes, read in chunks of
 *                      2 MiB when bits 3-1 of the first byte are 001
 *                      (FUZZ_MODE_CHUNK_2M), else 4 KiB (many more boundaries,
 *                      and a 2 MiB allocation per input would slow the fuzzer)
 *   FUZZ_MODE_RECORDS  the rest is records {u8 kind, u16 length (LE),
 *                      payload}; the fuzzer writes them as sections of a
 *                      valid snapshot (so the CRCs match and the loads are
 *                      reached): kind FUZZ_REC_CONFIG the configuration
 *                      (the first one only), FUZZ_REC_MEMORY a memory piece,
 *                      0..FUZZ_NR_DEVICES-1 a device section with that name.
 */
#ifndef FUZZ_INPUT_H
#define FUZZ_INPUT_H

#define FUZZ_MODE_RAW 0
#define FUZZ_MODE_RECORDS 1
#define FUZZ_MODE_CHUNK_2M 2
#define FUZZ_REC_CONFIG 0x40
#define FUZZ_REC_MEMORY 0x41

#endif
