/*
 * The per-VM intercept policy (core/intercept.c) and both back ends' bitmap
 * layouts built from it (arch/x86/svm/svm_maps.c: APM vol. 2, 15.10.1 and
 * 15.11; arch/x86/vmx/vmx_maps.c: SDM vol. 3, 25.6.4 and 25.6.9).
 */
#include "unit.h"
#include <string.h>
#include "hv/bus.h"
#include "hv/intercept.h"
#include "hv/mm.h"
#include "hv/vm.h"
#include "arch/x86/svm/svm.h"
#include "arch/x86/vmx/vmx.h"
#include "arch/x86/emul/msr.h"

/* ---- fakes: pages that count, the console, the passthrough list ---- */
static int pages_out, kprintf_calls;

u64 page_alloc(u64 npages, u64 align)
{
	void *p = aligned_alloc(align, npages * 4096);

	memset(p, 0, npages * 4096);
	pages_out += (int)npages;
	return (u64)(uintptr_t)p;
}

void page_free(u64 pa, u64 npages)
{
	pages_out -= (int)npages;
	free((void *)(uintptr_t)pa);
}

void *kzalloc(size_t n) { return calloc(1, n); }
void kfree(void *p) { free(p); }
void kprintf(const char *fmt, ...) { (void)fmt; kprintf_calls++; }

/* As arch/x86/emul/msr.c's, plus IA32_TSC (0x10), which VT-x does not switch. */
const u32 msr_passthrough[] = { 0x174, 0x175, 0x176, 0xc0000081, 0xc0000082, 0xc0000083,
				0xc0000084, 0xc0000100, 0xc0000101, 0xc0000102, 0x10 };
const unsigned nr_msr_passthrough = ARRAY_SIZE(msr_passthrough);

static const struct io_ops no_ops;

static void bus_with_devices(struct bus *b)
{
	memset(b, 0, sizeof(*b));
	CHECK_EQ(bus_register(b, 0x3f8, 8, "uart", &no_ops, NULL), 0);
	CHECK_EQ(bus_register(b, 0xfff8, 8, "last", &no_ops, NULL), 0);
	CHECK_EQ(bus_register(b, 0, 1, "first", &no_ops, NULL), 0);
}

static bool bit(const u8 *map, long n)
{
	return map[n / 8] & (1u << (n % 8));
}

static long zero_bits(const u8 *map, size_t bytes)
{
	long n = 0;

	for (size_t i = 0; i < bytes * 8; i++)
		n += !bit(map, (long)i);
	return n;
}

static struct intercept_policy pol;

TEST(builder_default_policy)
{
	struct bus pio;

	bus_with_devices(&pio);
	intercept_policy_build(&pol, &pio, 0, 0);
	/* Every port exits, claimed or not, the edges included. */
	for (u32 port = 0; port < INTERCEPT_NR_PORTS; port++)
		if (!intercept_port(&pol, (u16)port))
			CHECK(!"a port passes");
	/* The passthrough MSRs pass both ways; the emulated ones exit. */
	for (unsigned i = 0; i < nr_msr_passthrough; i++)
		for (int w = 0; w < 2; w++)
			CHECK(!intercept_msr(&pol, msr_passthrough[i], w));
	for (int w = 0; w < 2; w++) {
		CHECK(intercept_msr(&pol, 0xc0000080, w)); /* EFER */
		CHECK(intercept_msr(&pol, 0x277, w));      /* PAT */
		CHECK(intercept_msr(&pol, 0x1b, w));       /* APIC base */
		CHECK(intercept_msr(&pol, 0, w));
		CHECK(intercept_msr(&pol, 0x1fff, w));
		CHECK(intercept_msr(&pol, 0xc0010000, w));
		CHECK(intercept_msr(&pol, 0xc0011fff, w));
		CHECK(intercept_msr(&pol, 0x2000, w));       /* outside every range */
		CHECK(intercept_msr(&pol, 0x40000000, w));
		CHECK(intercept_msr(&pol, 0xffffffff, w));
	}
	CHECK_EQ(zero_bits(&pol.msr_read[0][0], sizeof(pol.msr_read)), nr_msr_passthrough);
	CHECK_EQ(zero_bits(&pol.msr_write[0][0], sizeof(pol.msr_write)), nr_msr_passthrough);
	CHECK_EQ(pol.exceptions, BIT(18) | BIT(6));
	CHECK(!pol.invlpg);

	intercept_policy_build(&pol, &pio, INTERCEPT_POLICY_INVLPG, BIT(14) | BIT(6));
	CHECK_EQ(pol.exceptions, BIT(18) | BIT(14) | BIT(6));
	CHECK(pol.invlpg);
}

TEST(builder_passes_and_claims)
{
	struct bus pio;
	unsigned r, i;

	bus_with_devices(&pio);
	intercept_policy_init(&pol);
	/* Passed ports pass, except where a device claims them. */
	intercept_pass_ports(&pol, 0xfff0, 0x10);
	intercept_pass_ports(&pol, 0, 0x10);
	intercept_pass_ports(&pol, 0x3f0, 0x20);
	intercept_claim_bus_ports(&pol, &pio);
	CHECK(intercept_port(&pol, 0));      /* "first" */
	CHECK(!intercept_port(&pol, 1));
	CHECK(!intercept_port(&pol, 0xf));
	CHECK(intercept_port(&pol, 0x10));
	CHECK(!intercept_port(&pol, 0x3f7));
	CHECK(intercept_port(&pol, 0x3f8));  /* the UART */
	CHECK(intercept_port(&pol, 0x3ff));
	CHECK(!intercept_port(&pol, 0x400));
	CHECK(!intercept_port(&pol, 0xfff7));
	CHECK(intercept_port(&pol, 0xfff8)); /* "last" */
	CHECK(intercept_port(&pol, 0xffff));
	CHECK_EQ(zero_bits(pol.io, sizeof(pol.io)), 15 + 24 + 8);
	/* A pass that runs past the last port stops there. */
	intercept_pass_ports(&pol, 0xffff, 0x100);
	CHECK(!intercept_port(&pol, 0xffff));

	/* Reads and writes apart; the MSR ranges' edges. */
	CHECK_EQ(intercept_pass_msr(&pol, 0xc0010000, true, false), 0);
	CHECK(!intercept_msr(&pol, 0xc0010000, false));
	CHECK(intercept_msr(&pol, 0xc0010000, true));
	CHECK_EQ(intercept_pass_msr(&pol, 0xc0011fff, false, true), 0);
	CHECK(intercept_msr(&pol, 0xc0011fff, false));
	CHECK(!intercept_msr(&pol, 0xc0011fff, true));
	CHECK_EQ(intercept_pass_msr(&pol, 0xc0012000, true, true), -ERANGE);
	CHECK_EQ(intercept_pass_msr(&pol, 0xbfffffff, true, true), -ERANGE);
	CHECK_EQ(intercept_pass_msr(&pol, 0x2000, true, true), -ERANGE);
	CHECK(intercept_msr_slot(0xc0001fff, &r, &i));
	CHECK_EQ(r, 1);
	CHECK_EQ(i, 0x1fff);
	CHECK(intercept_msr_slot(0xc0010000, &r, &i));
	CHECK_EQ(r, 2);
	CHECK_EQ(i, 0);
	CHECK(!intercept_msr_slot(0xc0002000, &r, &i));
}

TEST(svm_iopm_layout)
{
	static u8 iopm[SVM_IOPM_SIZE];

	intercept_policy_init(&pol);
	intercept_pass_ports(&pol, 0, 1);
	intercept_pass_ports(&pol, 0x80, 1);
	intercept_pass_ports(&pol, 0xffff, 1);
	svm_iopm_fill(iopm, &pol);
	/* One bit per port, port n at bit n (15.10.1). */
	CHECK(!bit(iopm, 0));
	CHECK(bit(iopm, 1));
	CHECK_EQ(iopm[0x10], 0xfe);    /* port 0x80: byte 0x10, bit 0 */
	CHECK_EQ(iopm[0x1fff], 0x7f);  /* port 0xffff: byte 0x1fff, bit 7 */
	/* Past the last port (a 2- or 4-byte access at 0xffff): exits. */
	for (size_t i = 0x2000; i < SVM_IOPM_SIZE; i++)
		if (iopm[i] != 0xff)
			CHECK(!"third IOPM page not all ones");
	CHECK_EQ(zero_bits(iopm, sizeof(iopm)), 3);
}

TEST(svm_msrpm_layout)
{
	static u8 msrpm[SVM_MSRPM_SIZE];

	/* Two bits per MSR, read then write; vectors at 0, 800h, 1000h (15.11). */
	CHECK_EQ(svm_msrpm_bit(0, false), 0);
	CHECK_EQ(svm_msrpm_bit(0, true), 1);
	CHECK_EQ(svm_msrpm_bit(0x1fff, true), 0x3fff);
	CHECK_EQ(svm_msrpm_bit(0xc0000000, false), 0x800 * 8);
	CHECK_EQ(svm_msrpm_bit(0xc0000080, true), 0x800 * 8 + 0x101);
	CHECK_EQ(svm_msrpm_bit(0xc0001fff, true), 0x1000 * 8 - 1);
	CHECK_EQ(svm_msrpm_bit(0xc0010000, false), 0x1000 * 8);
	CHECK_EQ(svm_msrpm_bit(0xc0011fff, true), 0x1800 * 8 - 1);
	CHECK_EQ(svm_msrpm_bit(0x2000, false), -1);
	CHECK_EQ(svm_msrpm_bit(0xc0002000, false), -1);
	CHECK_EQ(svm_msrpm_bit(0xc0012000, true), -1);

	intercept_policy_init(&pol);
	intercept_pass_msr(&pol, 0, true, true);
	intercept_pass_msr(&pol, 0xc0000100, false, true);
	intercept_pass_msr(&pol, 0xc0011fff, true, false);
	svm_msrpm_fill(msrpm, &pol);
	CHECK_EQ(msrpm[0] & 3, 0);
	CHECK(bit(msrpm, 0x800 * 8 + 0x200));       /* FS_BASE read exits */
	CHECK(!bit(msrpm, 0x800 * 8 + 0x201));      /* its write does not */
	CHECK(!bit(msrpm, 0x1800 * 8 - 2));
	CHECK(bit(msrpm, 0x1800 * 8 - 1));
	for (size_t i = 0x1800; i < SVM_MSRPM_SIZE; i++) /* reserved */
		if (msrpm[i] != 0xff)
			CHECK(!"reserved MSRPM bytes not all ones");
	CHECK_EQ(zero_bits(msrpm, sizeof(msrpm)), 4);
}

TEST(vmx_bitmap_layouts)
{
	static u8 msr[4096], io[8192];
	struct bus pio;

	/* Reads low, reads high, writes low, writes high: 1 KiB each (25.6.9). */
	CHECK_EQ(vmx_msr_bitmap_bit(0, false), 0);
	CHECK_EQ(vmx_msr_bitmap_bit(0x1fff, false), 0x1fff);
	CHECK_EQ(vmx_msr_bitmap_bit(0xc0000000, false), 1024 * 8);
	CHECK_EQ(vmx_msr_bitmap_bit(0xc0001fff, false), 2048 * 8 - 1);
	CHECK_EQ(vmx_msr_bitmap_bit(0, true), 2048 * 8);
	CHECK_EQ(vmx_msr_bitmap_bit(0xc0000000, true), 3072 * 8);
	CHECK_EQ(vmx_msr_bitmap_bit(0xc0001fff, true), 4096 * 8 - 1);
	CHECK_EQ(vmx_msr_bitmap_bit(0xc0010000, false), -1); /* no such range on VT-x */
	CHECK_EQ(vmx_msr_bitmap_bit(0x2000, true), -1);

	bus_with_devices(&pio);
	intercept_policy_build(&pol, &pio, 0, 0);
	intercept_pass_msr(&pol, 0xc0010000, true, true); /* cannot be represented */
	/* IA32_TSC (not switched) and C0010000h stay intercepted, both ways. */
	CHECK_EQ(vmx_msr_bitmap_fill(msr, &pol), 4);
	for (int w = 0; w < 2; w++) {
		CHECK(!bit(msr, vmx_msr_bitmap_bit(0x174, w)));
		CHECK(!bit(msr, vmx_msr_bitmap_bit(0xc0000102, w)));
		CHECK(bit(msr, vmx_msr_bitmap_bit(0x10, w)));
		CHECK(bit(msr, vmx_msr_bitmap_bit(0xc0000080, w)));
	}
	CHECK_EQ(zero_bits(msr, sizeof(msr)), 2 * (nr_msr_passthrough - 1));

	/* I/O bitmap A: ports 0-7FFFh, B: 8000h-FFFFh, port n at bit n % 8000h (25.6.4). */
	intercept_policy_init(&pol);
	intercept_pass_ports(&pol, 0, 1);
	intercept_pass_ports(&pol, 0x7fff, 2);
	intercept_pass_ports(&pol, 0xffff, 1);
	vmx_io_bitmap_fill(io, &pol);
	CHECK_EQ(io[0], 0xfe);
	CHECK_EQ(io[4095], 0x7f);   /* A, port 7FFFh */
	CHECK_EQ(io[4096], 0xfe);   /* B, port 8000h */
	CHECK_EQ(io[8191], 0x7f);   /* B, port FFFFh */
	CHECK_EQ(zero_bits(io, sizeof(io)), 4);
}

/* Per VM: built at vm_init from the VM's bus, freed page for page. */
TEST(per_vm_maps_are_built_and_freed)
{
	static struct vm vm_a, vm_b;

	memset(&vm_a, 0, sizeof(vm_a));
	memset(&vm_b, 0, sizeof(vm_b));
	bus_with_devices(&vm_a.pio);
	CHECK_EQ(vm_intercept_init(&vm_a), 0);
	CHECK_EQ(vm_intercept_init(&vm_b), 0);
	CHECK_EQ(svm_vm_maps_build(&vm_a), 0);
	CHECK_EQ(svm_vm_maps_build(&vm_b), 0);
	CHECK_EQ(pages_out, 10);
	CHECK(vm_a.arch.svm.iopm_pa != vm_b.arch.svm.iopm_pa);
	CHECK(vm_a.arch.svm.msrpm_pa && !(vm_a.arch.svm.msrpm_pa & 0xfff));
	CHECK(bit((const u8 *)(uintptr_t)vm_a.arch.svm.iopm_pa, 0x3f8));
	svm_vm_maps_free(&vm_a);
	svm_vm_maps_free(&vm_a); /* twice: nothing more to free */
	svm_vm_maps_free(&vm_b);
	CHECK_EQ(pages_out, 0);

	memset(&vm_a.arch, 0, sizeof(vm_a.arch));
	kprintf_calls = 0;
	CHECK_EQ(vmx_vm_maps_build(&vm_a), 0);
	CHECK_EQ(pages_out, 3);
	CHECK_EQ(kprintf_calls, 1); /* IA32_TSC stays intercepted: said once */
	CHECK(!bit((const u8 *)(uintptr_t)vm_a.arch.vmx.msr_bitmap_pa,
		   vmx_msr_bitmap_bit(0xc0000100, true)));
	vmx_vm_maps_free(&vm_a);
	CHECK_EQ(pages_out, 0);
	vm_intercept_free(&vm_a);
	vm_intercept_free(&vm_b);
	CHECK(!vm_a.intercepts);
}

int main(void)
{
	RUN(builder_default_policy);
	RUN(builder_passes_and_claims);
	RUN(svm_iopm_layout);
	RUN(svm_msrpm_layout);
	RUN(vmx_bitmap_layouts);
	RUN(per_vm_maps_are_built_and_freed);
	return unit_done();
}
