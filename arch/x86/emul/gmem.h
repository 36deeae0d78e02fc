/*
 * Guest RAM as the emulator reads it: gmem_peek (include/hv/gmem.h) inline,
 * since the page walk and the fetch on every exit without NRIP make four or
 * five look-ups. Read-only: the emulator writes guest memory only through
 * gmem_write.
 */
#ifndef EMUL_GMEM_H
#define EMUL_GMEM_H

#include "hv/types.h"
#include "hv/vm.h"

/* Host pointer to guest-physical [gpa, gpa + len), or NULL outside RAM or
 * across a 2 MiB chunk (len is at most a page here, so within a page it is not). */
static inline const void *emul_gpa_ptr(const struct vm *vm, u64 gpa, u64 len)
{
	return gmem_peek(&vm->gmem, gpa, len);
}

#endif
