/*
 * kvm-runner: runs one utsuwa test-guest image (a raw flat binary) as a
 * one-vCPU KVM virtual machine, with the start state utsuwa gives it, so the
 * exit benchmark (bench/bench.c) can be measured under KVM the same way it is
 * under utsuwa (bench/README.md, "Side by side with KVM"). It runs inside the
 * L1 Linux that bench/peer/build-l1.sh builds, never on the build machine.
 *
 *   kvm-runner [-M real|prot|long] [-m MiB] [-a ARG] [-t SECONDS] [-i] IMAGE
 *
 * Defaults: long mode, 16 MiB, arg 0, 600 s, no in-kernel interrupt
 * controller; -i creates one (KVM_CREATE_IRQCHIP, as QEMU does), which adds
 * about 50 instructions to each exit round trip in the bench-peer L1, and
 * makes a HLT wait in the kernel until the time limit. Shared with utsuwa, compiled in
 * from its sources: the image loader and start state (loaders/raw.c,
 * loaders/start_state.c: GDT at 0x1000, identity-mapped 4 GiB page tables at
 * 0x2000-0x7fff, CS 0x18, RSP = load address), the 16550 UART on ports
 * 0x3f8-0x3ff (devices/uart8250.c) and the test device at 0xfeb00000
 * (devices/testdev.c). The guest's UART lines go to standard output as they
 * are. An OUT of any size to port 0xf4 (PEER_EXIT_PORT, as in
 * tests/guests/lib/guest.h) ends the run; the exit status is the value
 * written (0-255). Anything else that ends the guest (HLT, shutdown, a failed
 * entry, an unclaimed MMIO access, the time limit) is reported on standard
 * error with the registers, exit status 100 or more.
 *
 * KVM answers CPUID, MSRs and VMMCALL in the kernel (with the leaves
 * KVM_GET_SUPPORTED_CPUID offers, "KVMKVMKVM" at 0x40000000, as QEMU would set
 * them), and exits to this program for port I/O and MMIO only, as it does for
 * QEMU. The guests measured here need no interrupt controller.
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/testdev.h"
#include "devices/uart8250.h"
#include "hv/bus.h"
#include "hv/loader.h"
#include "hv/mm.h"
#include "hv/vcpu.h"
#include "hv/vm.h"

/* hv/types.h spells ENOTSUP 95, glibc EOPNOTSUPP (also 95): take glibc's. */
#undef ENOTSUP
#include <errno.h>

#define PEER_EXIT_PORT 0xf4 /* tests/guests/lib/guest.h */

#define EXIT_FAIL 100   /* the guest ended some other way */
#define EXIT_USAGE 101  /* bad arguments, a missing image */
#define EXIT_KVM 102    /* /dev/kvm or an ioctl failed */
#define EXIT_TIMEOUT 103

/* The device models' heap (hv/mm.h), for the host. */
void *kzalloc(size_t size)
{
	return calloc(1, size);
}

void kfree(void *p)
{
	free(p);
}

static const char *image_path;
static int vcpu_fd;
static struct kvm_run *run;

static void say(const char *fmt, ...) __printf(1, 2);
static void say(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "kvm-runner: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static __noreturn void die_errno(const char *what)
{
	say("%s: %s", what, strerror(errno));
	exit(EXIT_KVM);
}

/* UART output, byte for byte as the guest wrote it (devices/uart8250.h;
 * a newline after each call split the guest's lines into one byte each). */
static void uart_line(void *ctx, const char *s, size_t n)
{
	fwrite(s, 1, n, stdout);
	if (n && s[n - 1] == '\n')
		fflush(stdout);
}

static void dump_regs(void)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(vcpu_fd, KVM_GET_REGS, &r) < 0 || ioctl(vcpu_fd, KVM_GET_SREGS, &s) < 0) {
		say("cannot read the registers: %s", strerror(errno));
		return;
	}
	fprintf(stderr,
		"  rip %016llx rflags %08llx cs %04x cr0 %08llx cr3 %08llx cr4 %08llx efer %llx\n"
		"  rax %016llx rbx %016llx rcx %016llx rdx %016llx\n"
		"  rsi %016llx rdi %016llx rbp %016llx rsp %016llx\n",
		r.rip, r.rflags, s.cs.selector, s.cr0, s.cr3, s.cr4, s.efer, r.rax, r.rbx, r.rcx,
		r.rdx, r.rsi, r.rdi, r.rbp, r.rsp);
}

static __noreturn void fail(const char *fmt, ...) __printf(1, 2);
static __noreturn void fail(const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	say("%s: %s", image_path, msg);
	dump_regs();
	exit(EXIT_FAIL);
}

static void on_alarm(int sig)
{
	static const char msg[] = "kvm-runner: time limit reached\n";

	(void)sig;
	(void)!write(2, msg, sizeof(msg) - 1);
	_exit(EXIT_TIMEOUT);
}

/* A VMCB-packed segment (hv/guest_ctx.h) as KVM wants it. */
static struct kvm_segment kseg(const struct seg *g)
{
	return (struct kvm_segment){
		.base = g->base,
		.limit = g->limit,
		.selector = g->sel,
		.type = SEG_ATTR_TYPE(g->attr),
		.present = !!(g->attr & SEG_ATTR_P),
		.dpl = SEG_ATTR_DPL(g->attr),
		.db = !!(g->attr & SEG_ATTR_DB),
		.s = !!(g->attr & SEG_ATTR_S),
		.l = !!(g->attr & SEG_ATTR_L),
		.g = !!(g->attr & SEG_ATTR_G),
		.avl = !!(g->attr & BIT(8)),
		.unusable = !(g->attr & SEG_ATTR_P),
	};
}

static void *read_image(const char *path, u64 *size)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	void *buf;

	if (fd < 0 || fstat(fd, &st) < 0) {
		say("%s: %s", path, strerror(errno));
		exit(EXIT_USAGE);
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf || read(fd, buf, (size_t)st.st_size) != st.st_size) {
		say("%s: cannot read it", path);
		exit(EXIT_USAGE);
	}
	close(fd);
	*size = (u64)st.st_size;
	return buf;
}

/* CPUID as KVM offers it, set on the vCPU (as QEMU's -cpu host would). */
/* With the in-kernel local APIC, KVM emulates the TSC-deadline timer but
 * leaves CPUID.1:ECX[24] to user space (QEMU sets it likewise). */
static bool tsc_deadline;

static void set_cpuid(int kvm_fd)
{
	for (unsigned n = 64;; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(struct kvm_cpuid_entry2));

		if (!c)
			die_errno("calloc");
		c->nent = n;
		if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			/* Leaf 1 ECX bit 31, "a hypervisor is present": user space sets
			   it (QEMU does); the leaves from 0x40000000 are KVM's. */
			for (u32 i = 0; i < c->nent; i++)
				if (c->entries[i].function == 1)
					c->entries[i].ecx |= 1u << 31 | (tsc_deadline ? 1u << 24 : 0);
			if (ioctl(vcpu_fd, KVM_SET_CPUID2, c) < 0)
				die_errno("KVM_SET_CPUID2");
			free(c);
			return;
		}
		free(c);
		if (errno != E2BIG || n >= 4096)
			die_errno("KVM_GET_SUPPORTED_CPUID");
	}
}

static int parse_mode(const char *s, enum start_mode *m)
{
	if (!strcmp(s, "real"))
		*m = START_REAL16;
	else if (!strcmp(s, "prot"))
		*m = START_PROT32;
	else if (!strcmp(s, "long"))
		*m = START_LONG64;
	else
		return -1;
	return 0;
}

static __noreturn void usage(void)
{
	fprintf(stderr,
		"usage: kvm-runner [-M real|prot|long] [-m MiB] [-a ARG] [-t SECONDS] [-i] IMAGE\n");
	exit(EXIT_USAGE);
}

/* Port I/O: the UART, the exit port; other ports read all ones, writes are dropped. */
static void handle_io(struct bus *pio)
{
	struct kvm_run *r = run;
	u8 *data = (u8 *)r + r->io.data_offset;
	u8 size = r->io.size;

	for (u32 i = 0; i < r->io.count; i++, data += size) {
		u64 v = 0;

		if (r->io.direction == KVM_EXIT_IO_OUT) {
			memcpy(&v, data, size);
			if (r->io.port == PEER_EXIT_PORT) {
				fflush(stdout);
				exit((int)(v & 0xff));
			}
			bus_write(pio, r->io.port, size, v);
		} else {
			if (bus_read(pio, r->io.port, size, &v) < 0)
				v = ~0ull;
			memcpy(data, &v, size);
		}
	}
}

static void handle_mmio(struct bus *mmio)
{
	struct kvm_run *r = run;
	u8 len = (u8)r->mmio.len;
	u64 v = 0;
	int err;

	if (r->mmio.is_write) {
		memcpy(&v, r->mmio.data, len);
		err = bus_write(mmio, r->mmio.phys_addr, len, v);
	} else {
		err = bus_read(mmio, r->mmio.phys_addr, len, &v);
		memcpy(r->mmio.data, &v, len);
	}
	if (err == -ENOENT)
		fail("%u-byte MMIO %s at %#llx, outside RAM and every device", len,
		     r->mmio.is_write ? "write" : "read", r->mmio.phys_addr);
}

int main(int argc, char **argv)
{
	static struct vm vm; /* for the loader: the VM's configuration and RAM */
	enum start_mode mode = START_LONG64;
	unsigned long mib = 16, timeout = 600;
	struct bus pio = { 0 }, mmio = { 0 };
	struct kvm_userspace_memory_region region;
	struct guest_ctx ctx;
	struct vcpu_regs regs;
	struct kvm_sregs sregs;
	struct kvm_regs kregs;
	const char *why = "";
	bool irqchip = false;
	int opt, kvm_fd, vm_fd, run_size;
	void *image, *ram;
	u64 size, load;

	while ((opt = getopt(argc, argv, "M:m:a:t:i")) != -1) {
		char *end;

		switch (opt) {
		case 'M':
			if (parse_mode(optarg, &mode))
				usage();
			break;
		case 'm':
			mib = strtoul(optarg, &end, 0);
			if (*end || !mib || mib % 2 || mib > 4096)
				usage();
			break;
		case 'a':
			vm.cfg.arg = (u32)strtoul(optarg, &end, 0);
			if (*end)
				usage();
			vm.cfg.arg_set = true;
			break;
		case 't':
			timeout = strtoul(optarg, &end, 0);
			if (*end)
				usage();
			break;
		case 'i':
			irqchip = true;
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1)
		usage();
	image_path = argv[optind];
	image = read_image(image_path, &size);

	/* The VM as utsuwa's loader sees it: RAM from 0. */
	ram = mmap(NULL, mib << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		   -1, 0);
	if (ram == MAP_FAILED)
		die_errno("mmap");
	strcpy(vm.name, "kvm");
	vm.cfg.mode = mode;
	vm.cfg.mem = (u64)mib << 20;
	vm.cfg.cpus = 1;
	/* utsuwa's loaders reach RAM through vm.gmem (include/hv/gmem.h): its
	 * chunk array over the one mapping, and a dirty bitmap nobody reads. */
	vm.gmem.size = vm.cfg.mem;
	vm.gmem.nr_chunks = (vm.cfg.mem + GMEM_CHUNK - 1) / GMEM_CHUNK;
	vm.gmem.chunks = calloc(vm.gmem.nr_chunks, sizeof(u64));
	vm.gmem.dirty = calloc(vm.cfg.mem / 4096 / 64 + 1, sizeof(u64));
	if (!vm.gmem.chunks || !vm.gmem.dirty)
		die_errno("calloc");
	for (u64 i = 0; i < vm.gmem.nr_chunks; i++)
		vm.gmem.chunks[i] = (u64)(uintptr_t)ram + i * GMEM_CHUNK;
	load = loader_load_address(&vm.cfg);
	if (load_raw(&vm, image, size, load, &why) < 0) {
		say("%s: %s", image_path, why);
		return EXIT_USAGE;
	}
	if (start_state_build(&vm, mode, &ctx) < 0) {
		say("%s: no room for the start state", image_path);
		return EXIT_USAGE;
	}
	start_regs(&vm.cfg, 0, &regs);

	/* The devices, on the same buses as in utsuwa. */
	if (bus_register(&pio, UART8250_COM1_BASE, UART8250_NR_PORTS, "uart", &uart8250_ops,
			 uart8250_create(uart_line, NULL)) < 0 ||
	    bus_register(&mmio, TESTDEV_MMIO_BASE, TESTDEV_MMIO_SIZE, "testdev", &testdev_ops,
			 testdev_create()) < 0) {
		say("cannot set the devices up");
		return EXIT_KVM;
	}

	kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm_fd < 0)
		die_errno("/dev/kvm");
	if (ioctl(kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		say("unexpected KVM API version");
		return EXIT_KVM;
	}
	vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	if (vm_fd < 0)
		die_errno("KVM_CREATE_VM");
	region = (struct kvm_userspace_memory_region){
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = vm.cfg.mem,
		.userspace_addr = (u64)(uintptr_t)ram,
	};
	if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		die_errno("KVM_SET_USER_MEMORY_REGION");
	if (irqchip && ioctl(vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		die_errno("KVM_CREATE_IRQCHIP");
	vcpu_fd = ioctl(vm_fd, KVM_CREATE_VCPU, 0);
	if (vcpu_fd < 0)
		die_errno("KVM_CREATE_VCPU");
	run_size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size < (int)sizeof(*run))
		die_errno("KVM_GET_VCPU_MMAP_SIZE");
	run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu_fd, 0);
	if (run == MAP_FAILED)
		die_errno("mmap kvm_run");
	tsc_deadline = irqchip && ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0;
	set_cpuid(kvm_fd);

	if (ioctl(vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		die_errno("KVM_GET_SREGS");
	sregs.cs = kseg(&ctx.cs);
	sregs.ds = kseg(&ctx.ds);
	sregs.es = kseg(&ctx.es);
	sregs.fs = kseg(&ctx.fs);
	sregs.gs = kseg(&ctx.gs);
	sregs.ss = kseg(&ctx.ss);
	sregs.tr = kseg(&ctx.tr);
	sregs.ldt = kseg(&ctx.ldtr);
	sregs.gdt = (struct kvm_dtable){ .base = ctx.gdtr.base, .limit = (u16)ctx.gdtr.limit };
	sregs.idt = (struct kvm_dtable){ .base = ctx.idtr.base, .limit = (u16)ctx.idtr.limit };
	sregs.cr0 = ctx.cr0;
	sregs.cr2 = ctx.cr2;
	sregs.cr3 = ctx.cr3;
	sregs.cr4 = ctx.cr4;
	sregs.efer = ctx.efer;
	if (ioctl(vcpu_fd, KVM_SET_SREGS, &sregs) < 0)
		die_errno("KVM_SET_SREGS");
	kregs = (struct kvm_regs){
		.rax = regs.gpr[GPR_RAX], .rbx = regs.gpr[GPR_RBX], .rcx = regs.gpr[GPR_RCX],
		.rdx = regs.gpr[GPR_RDX], .rsi = regs.gpr[GPR_RSI], .rdi = regs.gpr[GPR_RDI],
		.rsp = regs.gpr[GPR_RSP], .rbp = regs.gpr[GPR_RBP],
		.rip = regs.rip, .rflags = regs.rflags,
	};
	if (ioctl(vcpu_fd, KVM_SET_REGS, &kregs) < 0)
		die_errno("KVM_SET_REGS");

	signal(SIGALRM, on_alarm);
	alarm((unsigned)timeout);
	for (;;) {
		if (ioctl(vcpu_fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			die_errno("KVM_RUN");
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			handle_io(&pio);
			break;
		case KVM_EXIT_MMIO:
			handle_mmio(&mmio);
			break;
		case KVM_EXIT_HLT:
			fail("the guest halted (no interrupt can wake it here)");
		case KVM_EXIT_SHUTDOWN:
			fail("shutdown (a triple fault)");
		case KVM_EXIT_FAIL_ENTRY:
			fail("VM entry failed, reason %#llx",
			     (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		case KVM_EXIT_INTERNAL_ERROR:
			fail("KVM internal error, suberror %u", run->internal.suberror);
		default:
			fail("unexpected KVM exit reason %u", run->exit_reason);
		}
	}
}
