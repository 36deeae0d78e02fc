/*
 * A virtual local APIC, one per vCPU (SDM vol. 3A, chapter "Advanced
 * Programmable Interrupt Controller (APIC)"): xAPIC mode through the 4 KiB
 * MMIO page at the APIC base, x2APIC mode through MSRs 0x800-0x8ff, the
 * IA32_APIC_BASE MSR, the timer (one-shot, periodic, TSC-deadline), IPIs,
 * INIT and SIPI.
 *
 * The model keeps IRR/ISR/TMR and computes PPR; the owner asks which vector
 * to deliver (vlapic_pending), tells when the guest took it (vlapic_ack), and
 * the guest's EOI retires it. Nothing here runs on its own: the timer is a
 * deadline the owner checks (vlapic_next_deadline, vlapic_timer_check), and
 * whatever leaves the vLAPIC (an IPI, an EOI broadcast, a wake-up, INIT,
 * SIPI) goes out through the callbacks of struct vlapic_ops.
 *
 * Time is the guest's TSC, as now_tsc() returns it and as the guest reads
 * and writes IA32_TSC_DEADLINE; the owner converts to the host's TSC.
 * docs/interrupts.md says how the core drives it.
 */
#ifndef DEVICES_VLAPIC_H
#define DEVICES_VLAPIC_H

#include "hv/bus.h"
#include "hv/spinlock.h"
#include "hv/types.h"
#include "asm/apic_regs.h"
#include "devices/vlapic_state.h"

/* Registers not in asm/apic_regs.h (SDM vol. 3A, table "Local APIC Register
 * Address Map"). ISR, TMR and IRR are 8 registers each, 0x10 apart. */
#define APIC_APR 0x090
#define APIC_PPR 0x0a0
#define APIC_RRD 0x0c0
#define APIC_ISR 0x100
#define APIC_TMR 0x180
#define APIC_IRR 0x200
#define APIC_LVT_CMCI 0x2f0
#define APIC_SELF_IPI 0x3f0 /* x2APIC only (MSR 0x83f) */
#define APIC_MMIO_SIZE 0x1000

#define APIC_BASE_DEFAULT 0xfee00000ULL
#define MSR_IA32_TSC_DEADLINE 0x6e0

/* Version register: an integrated APIC (0x14) with 6 LVT entries (timer,
 * thermal, performance, LINT0, LINT1, error: "max LVT entry" = 5) and no
 * EOI-broadcast suppression. */
#define VLAPIC_VERSION 0x00050014u
#define VLAPIC_NR_LVT 6

/* Timer mode, LVT timer bits 18:17 (SDM vol. 3A, "Timer Mode Configuration"). */
#define APIC_LVT_TIMER_MODE_MASK (3u << 17)
#define APIC_LVT_TIMER_ONESHOT (0u << 17)
#define APIC_LVT_TIMER_TSCDEADLINE (2u << 17)

/* A periodic timer never fires more often than every 100 us of guest time,
 * whatever the guest programs: a tiny period would keep a CPU busy with
 * this vCPU's timer alone (KVM has the same floor, min_timer_period_us). */
#define VLAPIC_MIN_PERIOD_US 100

/* Delivery modes, as in ICR, LVT and IOAPIC redirection entries (bits 10:8). */
enum apic_delivery {
	APIC_DELIVERY_FIXED = 0,
	APIC_DELIVERY_LOWEST = 1,
	APIC_DELIVERY_SMI = 2,
	APIC_DELIVERY_NMI = 4,
	APIC_DELIVERY_INIT = 5,
	APIC_DELIVERY_STARTUP = 6,
	APIC_DELIVERY_EXTINT = 7,
};

/* Destination shorthand, ICR bits 19:18. */
enum apic_shorthand {
	APIC_SHORTHAND_NONE = 0,
	APIC_SHORTHAND_SELF = 1,
	APIC_SHORTHAND_ALL = 2,
	APIC_SHORTHAND_ALL_BUT_SELF = 3,
};

#define APIC_BROADCAST 0xffu          /* physical or logical, xAPIC format */
#define X2APIC_BROADCAST 0xffffffffu  /* x2APIC format */
#define APIC_MSG_NO_SOURCE (-1)

/*
 * One interrupt message on the APIC bus: from an ICR write, an IOAPIC
 * redirection entry or an MSI. apic_bus_deliver() routes it.
 */
struct apic_msg {
	u32 dest;        /* APIC ID (physical) or logical destination */
	u8 vector;
	u8 delivery;     /* enum apic_delivery */
	u8 shorthand;    /* enum apic_shorthand; NONE for IOAPIC and MSI */
	bool logical;    /* destination mode */
	bool level;      /* trigger mode: level (TMR set, EOI broadcast) */
	bool assert;     /* ICR bit 14; an INIT with level && !assert is a de-assert: a no-op */
	bool x2apic;     /* dest is 32 bits wide (sent by an x2APIC) */
	int src;         /* index of the sending vLAPIC on its bus, or APIC_MSG_NO_SOURCE */
};

/*
 * What leaves the vLAPIC. All are called with no vLAPIC lock held (so they
 * may call back into any vLAPIC), on whichever CPU caused them: on_init and
 * on_sipi run on the sender's CPU, not the target vCPU's. now_tsc is the
 * exception: it is called with the lock held and must only read a clock.
 * Any may be NULL.
 */
struct vlapic_ops {
	/* The guest's TSC now. */
	u64 (*now_tsc)(void *ctx);
	/* An IPI from an ICR write: route it (apic_bus_deliver). */
	void (*send)(void *ctx, const struct apic_msg *msg);
	/* EOI of a level-triggered vector: broadcast it to the IOAPIC(s). */
	void (*eoi)(void *ctx, u8 vector);
	/* An interrupt or NMI became deliverable: wake the vCPU if it halted,
	 * kick it out of guest mode if it runs. */
	void (*wake)(void *ctx);
	/* INIT was accepted: the vLAPIC has reset itself; reset the vCPU and
	 * hold it in wait-for-SIPI. */
	void (*on_init)(void *ctx);
	/* A start-up IPI: if the vCPU waits for SIPI, start it in real mode at
	 * CS = vector << 8, IP = 0 (address vector * 0x1000). Ignore it otherwise. */
	void (*on_sipi)(void *ctx, u8 vector);
};

struct vlapic_config {
	u32 id;             /* vCPU index: initial APIC ID and x2APIC ID; bus index */
	bool bsp;           /* IA32_APIC_BASE.BSP */
	u64 tsc_khz;        /* guest TSC frequency */
	u64 timer_khz;      /* APIC timer input before the divider (CPUID 0x15 ECX, 0x40000010 EBX) */
	bool x2apic;        /* CPUID.1:ECX.x2APIC[21] is shown: IA32_APIC_BASE.EXTD may be set */
	bool tsc_deadline;  /* CPUID.1:ECX.TSC_Deadline[24] is shown */
	u8 phys_addr_bits;  /* MAXPHYADDR: higher IA32_APIC_BASE bits are reserved; 0: 52 */
	const struct vlapic_ops *ops;
	void *ctx;          /* handed to every callback */
};

enum vlapic_mode {
	VLAPIC_DISABLED, /* IA32_APIC_BASE.EN clear: no interrupts, no registers */
	VLAPIC_XAPIC,
	VLAPIC_X2APIC,
};

/* How apic_bus sees one vLAPIC when it matches destinations. */
struct vlapic_dest {
	enum vlapic_mode mode;
	bool sw_enabled;  /* SVR.APIC_SW_ENABLE */
	bool cluster;     /* xAPIC: DFR model is cluster (0x0), not flat (0xf) */
	u32 id;           /* xAPIC: 8-bit APIC ID; x2APIC: x2APIC ID */
	u32 ldr;          /* xAPIC: 8-bit logical APIC ID; x2APIC: the 32-bit LDR */
	u8 ppr;
};

/*
 * The state; the owner and apic_bus use the functions below, not the
 * fields. lock guards every field after it: the vCPU's own CPU takes it for
 * MMIO, MSR and delivery, other CPUs for IPIs, IOAPIC messages and the timer
 * check. It is never held across a callback (except now_tsc).
 */
struct vlapic {
	struct vlapic_config cfg; /* set at creation, read-only after */
	u64 min_period_tsc;       /* VLAPIC_MIN_PERIOD_US in TSC ticks */

	spinlock_t lock;

	u64 apic_base;     /* IA32_APIC_BASE */
	u32 id;            /* xAPIC ID register: the ID in bits 31:24 */
	u32 tpr, ldr, dfr, svr;
	u32 esr;           /* as the guest reads it */
	u32 esr_pending;   /* errors since the last ESR write (SDM: "Error Handling") */
	u32 icr_lo, icr_hi;
	u32 lvt[VLAPIC_NR_LVT]; /* timer, thermal, perf, LINT0, LINT1, error */
	u32 irr[8], isr[8], tmr[8];
	bool nmi_pending;  /* also read without the lock (atomics) */

	/* Timer. deadline is the guest TSC of the next expiry, 0: disarmed;
	 * written under the lock, read without it by the timer check's fast path.
	 * For a count, start is the guest TSC where the current period began,
	 * period_tsc + period_frac / timer_khz its exact length in TSC ticks,
	 * and frac the accumulated fraction, so periods do not drift. */
	u32 timer_init, timer_dcr;
	u32 timer_div;     /* divider of the running count */
	u64 timer_start, timer_deadline;
	u64 period_tsc, period_frac, frac;
	u64 tsc_deadline;  /* IA32_TSC_DEADLINE as the guest reads it */
};

/* Power-up state (SDM vol. 3A, "Local APIC State After Power-Up or Reset"):
 * xAPIC mode at APIC_BASE_DEFAULT, software-disabled, LVTs masked. NULL when
 * out of memory or cfg is unusable (tsc_khz 0, timer_khz below 1 MHz, either
 * 2^32 kHz or more). */
struct vlapic *vlapic_create(const struct vlapic_config *cfg);
void vlapic_destroy(struct vlapic *lapic);
/* RESET: back to the power-up state (a VM reboot). */
void vlapic_reset(struct vlapic *lapic);

/*
 * The whole register state, for a snapshot or a vCPU state. save copies it
 * out under the lock. load replaces it: -EINVAL, and nothing changed, for
 * a state this APIC could not have reached (reserved or unwritable bits,
 * EXTD without EN or without x2APIC shown, TSC-deadline mode not shown, an
 * x2APIC whose ID or LDR differ from its vCPU's, a divider that does not
 * match its DCR). The timer continues from the saved deadline in the
 * guest's TSC; the caller (core/vcpu_state.c) raises interrupt work.
 */
void vlapic_save(struct vlapic *lapic, struct vlapic_state *s);
int vlapic_load(struct vlapic *lapic, const struct vlapic_state *s);

enum vlapic_mode vlapic_mode(struct vlapic *lapic);

/*
 * xAPIC registers. dev is the vCPU's struct vlapic, offset is from the APIC
 * base. 32-bit accesses at 16-byte aligned offsets reach a register (1- and
 * 2-byte reads within one too); other writes are ignored, other reads give
 * all ones. In x2APIC mode or disabled, the page reads all ones and ignores
 * writes.
 */
extern const struct io_ops vlapic_mmio_ops;
/* Guest-physical base of the MMIO page now (the guest may move it). */
u64 vlapic_mmio_base(struct vlapic *lapic);
/* Is gpa inside this vCPU's APIC page, and the page live (xAPIC mode)? */
bool vlapic_mmio_claims(struct vlapic *lapic, u64 gpa);

/* x2APIC MSRs 0x800-0x8ff. 0, or -EPERM for #GP: not in x2APIC mode, a
 * reserved or xAPIC-only register, reading a write-only one (EOI, SELF
 * IPI), writing a read-only one, bits 63:32 set (except ICR), a non-zero
 * EOI or ESR write, reserved SELF IPI bits. */
int vlapic_msr_read(struct vlapic *lapic, u32 msr, u64 *val);
int vlapic_msr_write(struct vlapic *lapic, u32 msr, u64 val);
static inline bool vlapic_is_x2apic_msr(u32 msr)
{
	return msr >= 0x800 && msr <= 0x8ff;
}

/* IA32_APIC_BASE (MSR 0x1b). The write is -EPERM (#GP) for reserved bits,
 * EXTD with EN clear, x2APIC -> xAPIC, disabled -> x2APIC, and EXTD when
 * x2APIC is not shown (SDM vol. 3A, "x2APIC State Transitions"). BSP is
 * read-only. Disabling resets the registers; enabling x2APIC switches the
 * ID to the x2APIC ID. */
u64 vlapic_apic_base_read(struct vlapic *lapic);
int vlapic_apic_base_write(struct vlapic *lapic, u64 val);
/* IA32_APIC_BASE.EN, without the lock: for the vCPU's own CPU, which alone
 * writes it (CPUID.1:EDX.APIC follows it). */
static inline bool vlapic_globally_enabled(struct vlapic *lapic)
{
	return __atomic_load_n(&lapic->apic_base, __ATOMIC_RELAXED) & APIC_BASE_EN;
}

/* IA32_TSC_DEADLINE (MSR 0x6e0). -EPERM when TSC-deadline is not shown.
 * Outside TSC-deadline mode it reads 0 and ignores writes; writing 0
 * disarms; it reads 0 again once the deadline has fired. */
int vlapic_tsc_deadline_read(struct vlapic *lapic, u64 *val);
int vlapic_tsc_deadline_write(struct vlapic *lapic, u64 val);

/* CR8 is TPR[7:4] in 64-bit mode (SDM vol. 3A, "Task Priority in IA-32e Mode"). */
u8 vlapic_cr8_read(struct vlapic *lapic);
void vlapic_cr8_write(struct vlapic *lapic, u8 val);

/*
 * Interrupts. accept sets IRR (and TMR for level), dropping it when the APIC
 * is disabled (hardware or software) or the vector is below 16 (ESR
 * "receive illegal vector"); false when dropped. Calls wake when the vector
 * beats PPR.
 */
bool vlapic_accept(struct vlapic *lapic, u8 vector, bool level_trig);
/* The highest IRR vector whose priority class is above PPR's, or -1. */
int vlapic_pending(struct vlapic *lapic);
/* The vCPU took vector (it must be the one vlapic_pending gave): IRR -> ISR. */
void vlapic_ack(struct vlapic *lapic, u8 vector);
u8 vlapic_ppr(struct vlapic *lapic);

/* A message apic_bus routed here: fixed and lowest-priority go to accept,
 * NMI sets the NMI flag, INIT resets and calls on_init, STARTUP calls
 * on_sipi; SMI and ExtINT are not modelled and dropped. True if accepted. */
bool vlapic_deliver(struct vlapic *lapic, const struct apic_msg *msg);

/* NMI (from an IPI): is one pending; take it (clears the flag) when the
 * vCPU is given the NMI. */
bool vlapic_nmi_pending(struct vlapic *lapic);
bool vlapic_take_nmi(struct vlapic *lapic);

/* May the 8259 PIC's INTR reach the vCPU? LVT LINT0 unmasked in ExtINT
 * mode (virtual wire), or the APIC disabled (SDM vol. 3A, "Local Vector
 * Table"). The PIC's vector then bypasses IRR/ISR. */
bool vlapic_pic_intr_allowed(struct vlapic *lapic);

/* Timer: the guest TSC of the next expiry, 0 if none; and the check, which
 * accepts the LVT timer vector (unless masked) when now has reached it and
 * re-arms a periodic timer one period after the last expiry. */
u64 vlapic_next_deadline(struct vlapic *lapic);
void vlapic_timer_check(struct vlapic *lapic, u64 now);

/* For apic_bus. */
void vlapic_dest_info(struct vlapic *lapic, struct vlapic_dest *out);
static inline u32 vlapic_index(const struct vlapic *lapic)
{
	return lapic->cfg.id;
}

#endif
