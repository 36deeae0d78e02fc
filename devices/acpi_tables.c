/*
 * The guest's ACPI tables (devices/acpi_tables.h). Section numbers are those
 * of the ACPI 6.4 specification; the layouts are checked by the compiler.
 */
#include "devices/acpi_tables.h"

#include "devices/acpi_pm.h"
#include "devices/pci_intx.h"
#include "lib/string.h"

#define OEM_ID "UTSUWA"         /* 6 bytes */
#define OEM_TABLE_ID "UTSUWAVM" /* 8 bytes */
#define CREATOR_ID "UTSW"
#define FADT_REVISION 6
#define FADT_MINOR 4
#define MADT_REVISION 5
#define DSDT_REVISION 2 /* 64-bit integers in AML */

/* 5.2.5.3 Root System Description Pointer. */
struct acpi_rsdp {
	char signature[8];
	u8 checksum;       /* the first 20 bytes */
	char oem_id[6];
	u8 revision;
	u32 rsdt_addr;
	u32 length;
	u64 xsdt_addr;
	u8 ext_checksum;   /* all 36 bytes */
	u8 reserved[3];
} __packed;
_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP");
_Static_assert(offsetof(struct acpi_rsdp, xsdt_addr) == 24, "RSDP XsdtAddress");
#define RSDP_V1_LEN 20

/* 5.2.6 System Description Table Header. */
struct acpi_hdr {
	char signature[4];
	u32 length;
	u8 revision;
	u8 checksum;
	char oem_id[6];
	char oem_table_id[8];
	u32 oem_revision;
	char creator_id[4];
	u32 creator_revision;
} __packed;
_Static_assert(sizeof(struct acpi_hdr) == 36, "SDT header");

/* 5.2.3.2 Generic Address Structure. */
struct acpi_gas {
	u8 space_id;
	u8 bit_width;
	u8 bit_offset;
	u8 access_size; /* 1 byte, 2 word, 3 dword, 4 qword */
	u64 address;
} __packed;
_Static_assert(sizeof(struct acpi_gas) == 12, "GAS");
#define GAS_SYSTEM_IO 1
#define GAS_BYTE 1
#define GAS_WORD 2
#define GAS_DWORD 3

/* 5.2.9 Fixed ACPI Description Table, table 5.9. */
struct acpi_fadt {
	struct acpi_hdr hdr;
	u32 firmware_ctrl;
	u32 dsdt;
	u8 reserved0;
	u8 preferred_pm_profile;
	u16 sci_int;
	u32 smi_cmd;
	u8 acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
	u32 pm1a_evt_blk, pm1b_evt_blk, pm1a_cnt_blk, pm1b_cnt_blk;
	u32 pm2_cnt_blk, pm_tmr_blk, gpe0_blk, gpe1_blk;
	u8 pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len;
	u8 gpe0_blk_len, gpe1_blk_len, gpe1_base, cst_cnt;
	u16 p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
	u8 duty_offset, duty_width, day_alrm, mon_alrm, century;
	u16 iapc_boot_arch;
	u8 reserved1;
	u32 flags;
	struct acpi_gas reset_reg;
	u8 reset_value;
	u16 arm_boot_arch;
	u8 minor_version;
	u64 x_firmware_ctrl;
	u64 x_dsdt;
	struct acpi_gas x_pm1a_evt_blk, x_pm1b_evt_blk, x_pm1a_cnt_blk, x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk, x_pm_tmr_blk, x_gpe0_blk, x_gpe1_blk;
	struct acpi_gas sleep_control_reg, sleep_status_reg;
	u64 hypervisor_vendor_id;
} __packed;
_Static_assert(offsetof(struct acpi_fadt, sci_int) == 46, "FADT SCI_INT");
_Static_assert(offsetof(struct acpi_fadt, pm1a_evt_blk) == 56, "FADT PM1a_EVT_BLK");
_Static_assert(offsetof(struct acpi_fadt, pm_tmr_blk) == 76, "FADT PM_TMR_BLK");
_Static_assert(offsetof(struct acpi_fadt, pm1_evt_len) == 88, "FADT PM1_EVT_LEN");
_Static_assert(offsetof(struct acpi_fadt, century) == 108, "FADT CENTURY");
_Static_assert(offsetof(struct acpi_fadt, iapc_boot_arch) == 109, "FADT IAPC_BOOT_ARCH");
_Static_assert(offsetof(struct acpi_fadt, flags) == 112, "FADT Flags");
_Static_assert(offsetof(struct acpi_fadt, reset_reg) == 116, "FADT RESET_REG");
_Static_assert(offsetof(struct acpi_fadt, reset_value) == 128, "FADT RESET_VALUE");
_Static_assert(offsetof(struct acpi_fadt, minor_version) == 131, "FADT Minor Version");
_Static_assert(offsetof(struct acpi_fadt, x_dsdt) == 140, "FADT X_DSDT");
_Static_assert(offsetof(struct acpi_fadt, x_pm1a_evt_blk) == 148, "FADT X_PM1a_EVT_BLK");
_Static_assert(offsetof(struct acpi_fadt, x_pm_tmr_blk) == 208, "FADT X_PM_TMR_BLK");
_Static_assert(offsetof(struct acpi_fadt, sleep_control_reg) == 244, "FADT SLEEP_CONTROL_REG");
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT");

/* 5.2.10 Firmware ACPI Control Structure. */
struct acpi_facs {
	char signature[4];
	u32 length;
	u32 hardware_signature;
	u32 firmware_waking_vector;
	u32 global_lock;
	u32 flags;
	u64 x_firmware_waking_vector;
	u8 version;
	u8 reserved[3];
	u32 ospm_flags;
	u8 reserved1[24];
} __packed;
_Static_assert(sizeof(struct acpi_facs) == 64, "FACS");
#define FACS_VERSION 2
#define FACS_ALIGN 64

/* 5.2.12 Multiple APIC Description Table and its entries (table 5.21). */
struct acpi_madt {
	struct acpi_hdr hdr;
	u32 lapic_addr;
	u32 flags;
} __packed;
_Static_assert(sizeof(struct acpi_madt) == 44, "MADT");
#define MADT_PCAT_COMPAT BIT(0)

struct madt_lapic { /* 5.2.12.2 */
	u8 type, length, uid, apic_id;
	u32 flags;
} __packed;
_Static_assert(sizeof(struct madt_lapic) == 8, "MADT Processor Local APIC");

struct madt_ioapic { /* 5.2.12.3 */
	u8 type, length, id, reserved;
	u32 addr, gsi_base;
} __packed;
_Static_assert(sizeof(struct madt_ioapic) == 12, "MADT I/O APIC");

struct madt_iso { /* 5.2.12.5 */
	u8 type, length, bus, source;
	u32 gsi;
	u16 flags;
} __packed;
_Static_assert(sizeof(struct madt_iso) == 10, "MADT Interrupt Source Override");

struct madt_lapic_nmi { /* 5.2.12.7 */
	u8 type, length, uid;
	u16 flags;
	u8 lint;
} __packed;
_Static_assert(sizeof(struct madt_lapic_nmi) == 6, "MADT Local APIC NMI");

#define MADT_LAPIC 0
#define MADT_IOAPIC 1
#define MADT_ISO 2
#define MADT_LAPIC_NMI 4
#define MADT_ENABLED BIT(0)
#define MADT_ALL_CPUS 0xff
/* MPS INTI flags (table 5.26): polarity bits 1-0, trigger mode bits 3-2. */
#define MPS_ACTIVE_HIGH 0x1
#define MPS_LEVEL 0xc

/* Where the tables go: buf as seen at gpa. */
struct out {
	u8 *buf;
	size_t size, used;
	u64 gpa;
};

/* len zeroed bytes at an address aligned to align; NULL when they do not fit. */
static void *take(struct out *o, size_t len, size_t align, u64 *gpa)
{
	size_t at = (size_t)(ALIGN_UP(o->gpa + o->used, align) - o->gpa);

	if (at > o->size || len > o->size - at)
		return NULL;
	memset(o->buf + o->used, 0, at + len - o->used); /* the padding too */
	o->used = at + len;
	*gpa = o->gpa + at;
	return o->buf + at;
}

static u8 checksum(const void *p, size_t len)
{
	const u8 *b = p;
	u8 sum = 0;

	while (len--)
		sum += *b++;
	return (u8)-sum;
}

static void header(struct acpi_hdr *h, const char sig[4], u32 len, u8 rev)
{
	memcpy(h->signature, sig, 4);
	h->length = len;
	h->revision = rev;
	memcpy(h->oem_id, OEM_ID, 6);
	memcpy(h->oem_table_id, OEM_TABLE_ID, 8);
	h->oem_revision = 1;
	memcpy(h->creator_id, CREATOR_ID, 4);
	h->creator_revision = 1;
}

/* The table's checksum byte, once everything else is in. */
static void seal(struct acpi_hdr *h)
{
	h->checksum = 0;
	h->checksum = checksum(h, h->length);
}

static u32 low32(u64 addr)
{
	return addr >> 32 ? 0 : (u32)addr;
}

static struct acpi_gas io_gas(u16 port, u8 bytes, u8 access)
{
	return (struct acpi_gas){
		.space_id = GAS_SYSTEM_IO, .bit_width = (u8)(bytes * 8), .access_size = access,
		.address = port,
	};
}

/* ---- AML (chapter 20) ---- */

#define AML_ZERO 0x00
#define AML_ONE 0x01
#define AML_NAME 0x08
#define AML_BYTE_PREFIX 0x0a
#define AML_WORD_PREFIX 0x0b
#define AML_DWORD_PREFIX 0x0c
#define AML_SCOPE 0x10
#define AML_BUFFER 0x11
#define AML_PACKAGE 0x12
#define AML_EXT_PREFIX 0x5b
#define AML_DEVICE 0x82 /* after AML_EXT_PREFIX */
#define AML_ROOT_CHAR 0x5c

struct aml {
	u8 *p;
	size_t len, cap;
	bool overflow;
};

static void emit(struct aml *a, const void *src, size_t n)
{
	if (a->overflow || n > a->cap - a->len) {
		a->overflow = true;
		return;
	}
	memcpy(a->p + a->len, src, n);
	a->len += n;
}

static void emit_byte(struct aml *a, u8 b)
{
	emit(a, &b, 1);
}

/*
 * A term with a PkgLength (Scope, Device, Buffer, Package; 20.2.4): op, then
 * one byte kept for the PkgLength, which pkg_end fills in once the body is
 * there. Returns where the body starts.
 */
static size_t pkg_begin(struct aml *a, const u8 *op, size_t oplen)
{
	emit(a, op, oplen);
	emit_byte(a, 0);
	return a->len;
}

/* PkgLength counts itself and the body, in 1-3 bytes here (DSDTs stay far
 * below 1 MiB); a body that needs more than the byte kept moves up. */
static void pkg_end(struct aml *a, size_t body_at)
{
	size_t body = a->len - body_at, n;
	u8 enc[3];

	if (a->overflow)
		return;
	if (body + 1 <= 0x3f) {
		n = 1;
		enc[0] = (u8)(body + 1);
	} else if (body + 2 <= 0xfff) {
		n = 2;
		enc[0] = (u8)(0x40 | ((body + 2) & 0xf));
		enc[1] = (u8)((body + 2) >> 4);
	} else {
		n = 3;
		enc[0] = (u8)(0x80 | ((body + 3) & 0xf));
		enc[1] = (u8)((body + 3) >> 4);
		enc[2] = (u8)((body + 3) >> 12);
	}
	if (n - 1 > a->cap - a->len) {
		a->overflow = true;
		return;
	}
	memmove(a->p + body_at + n - 1, a->p + body_at, body);
	memcpy(a->p + body_at - 1, enc, n);
	a->len += n - 1;
}

static void emit_name(struct aml *a, const char name[4])
{
	emit_byte(a, AML_NAME);
	emit(a, name, 4);
}

static void emit_u16(struct aml *a, u16 v)
{
	emit_byte(a, (u8)v);
	emit_byte(a, (u8)(v >> 8));
}

static void emit_u32(struct aml *a, u32 v)
{
	emit_u16(a, (u16)v);
	emit_u16(a, (u16)(v >> 16));
}

/* An Integer in its shortest form (20.2.3), as iasl writes it. */
static void emit_integer(struct aml *a, u32 v)
{
	if (v <= 1) {
		emit_byte(a, v ? AML_ONE : AML_ZERO);
	} else if (v <= 0xff) {
		emit_byte(a, AML_BYTE_PREFIX);
		emit_byte(a, (u8)v);
	} else if (v <= 0xffff) {
		emit_byte(a, AML_WORD_PREFIX);
		emit_u16(a, (u16)v);
	} else {
		emit_byte(a, AML_DWORD_PREFIX);
		emit_u32(a, v);
	}
}

/* Name(_S5, Package(4) {typ, typ, 0, 0}) (7.4.2.5 System \_Sx states). */
static void emit_sleep_state(struct aml *a, const char name[4], u8 typ)
{
	static const u8 op = AML_PACKAGE;
	size_t pkg;

	emit_name(a, name);
	pkg = pkg_begin(a, &op, 1);
	emit_byte(a, 4); /* NumElements */
	emit_byte(a, AML_BYTE_PREFIX);
	emit_byte(a, typ); /* PM1a_CNT.SLP_TYP */
	emit_byte(a, AML_BYTE_PREFIX);
	emit_byte(a, typ); /* PM1b_CNT.SLP_TYP (there is no PM1b) */
	emit_byte(a, AML_ZERO);
	emit_byte(a, AML_ZERO);
	pkg_end(a, pkg);
}

/* Large resource descriptors (6.4.3): Word Address Space and DWord Memory. */
#define RES_WORD_ADDR 0x88
#define RES_DWORD_ADDR 0x87
#define RES_IO 0x47
#define RES_END 0x79
#define RES_TYPE_MEM 0
#define RES_TYPE_IO 1
#define RES_TYPE_BUS 2
#define RES_MIN_MAX_FIXED 0x0c /* producer, positive decode, _MIF and _MAF */
#define RES_IO_ENTIRE_RANGE 0x03
#define RES_MEM_RW 0x01        /* read-write, non-cacheable */

static void res_word(struct aml *a, u8 type, u8 tflags, u16 min, u16 max)
{
	emit_byte(a, RES_WORD_ADDR);
	emit_u16(a, 13);
	emit_byte(a, type);
	emit_byte(a, RES_MIN_MAX_FIXED);
	emit_byte(a, tflags);
	emit_u16(a, 0); /* granularity */
	emit_u16(a, min);
	emit_u16(a, max);
	emit_u16(a, 0); /* translation */
	emit_u16(a, (u16)(max - min + 1));
}

static void res_dword_mem(struct aml *a, u32 base, u32 size)
{
	emit_byte(a, RES_DWORD_ADDR);
	emit_u16(a, 23);
	emit_byte(a, RES_TYPE_MEM);
	emit_byte(a, RES_MIN_MAX_FIXED);
	emit_byte(a, RES_MEM_RW);
	emit_u32(a, 0);
	emit_u32(a, base);
	emit_u32(a, base + size - 1);
	emit_u32(a, 0);
	emit_u32(a, size);
}

/*
 * Name(_PRT, Package(124) { Package(4) { 0xSSSSFFFF, pin, Zero, GSI }, ... }):
 * every function (0xFFFF) of slots 1-31, INTA#-INTD# (pin 0-3), hard-wired to
 * the GSI of devices/pci_intx.h (6.2.13: a Source of Zero names a GSI in
 * Source Index). Slot 0 is the host bridge, which has no interrupt.
 */
static void emit_prt(struct aml *a)
{
	static const u8 package_op = AML_PACKAGE;
	size_t prt, entry;

	emit_name(a, "_PRT");
	prt = pkg_begin(a, &package_op, 1);
	emit_byte(a, (PCI_INTX_NR_SLOTS - 1) * PCI_INTX_NR_PINS); /* NumElements */
	for (unsigned slot = 1; slot < PCI_INTX_NR_SLOTS; slot++) {
		for (unsigned pin = 0; pin < PCI_INTX_NR_PINS; pin++) {
			entry = pkg_begin(a, &package_op, 1);
			emit_byte(a, 4);
			emit_integer(a, slot << 16 | 0xffff); /* Address: device, any function */
			emit_integer(a, pin);
			emit_byte(a, AML_ZERO); /* Source */
			emit_integer(a, (u32)pci_intx_gsi(slot, pin + 1)); /* Source Index */
			pkg_end(a, entry);
		}
	}
	pkg_end(a, prt);
}

/*
 * Scope(\_SB) { Device(PCI0) { Name(_HID, EisaId("PNP0A03")) Name(_UID, 0)
 *   Name(_CRS, ResourceTemplate() { bus 0-255, I/O 0xcf8-0xcff (config),
 *   I/O windows 0-0xcf7 and 0xd00-0xffff, the MMIO window })
 *   Name(_PRT, ...) } }
 */
static void emit_pci_root(struct aml *a, const struct acpi_platform *p)
{
	static const u8 io_cf8[] = { RES_IO, 0x01, 0xf8, 0x0c, 0xf8, 0x0c, 0x01, 0x08 };
	static const u8 end[] = { RES_END, 0x00 };
	static const u8 pnp0a03[] = { AML_DWORD_PREFIX, 0x41, 0xd0, 0x0a, 0x03 }; /* EisaId */
	static const u8 buffer_op = AML_BUFFER, device_op[] = { AML_EXT_PREFIX, AML_DEVICE };
	static const u8 scope_op = AML_SCOPE, sb[] = { AML_ROOT_CHAR, '_', 'S', 'B', '_' };
	size_t scope, dev, buf, size_at, crs;

	scope = pkg_begin(a, &scope_op, 1);
	emit(a, sb, sizeof(sb));
	dev = pkg_begin(a, device_op, sizeof(device_op));
	emit(a, "PCI0", 4);
	emit_name(a, "_HID");
	emit(a, pnp0a03, sizeof(pnp0a03));
	emit_name(a, "_UID");
	emit_byte(a, AML_ZERO);

	emit_name(a, "_CRS");
	buf = pkg_begin(a, &buffer_op, 1);
	emit_byte(a, AML_BYTE_PREFIX); /* BufferSize, known once the descriptors are in */
	size_at = a->len;
	emit_byte(a, 0);
	crs = a->len;
	res_word(a, RES_TYPE_BUS, 0, 0x00, 0xff);
	emit(a, io_cf8, sizeof(io_cf8));
	res_word(a, RES_TYPE_IO, RES_IO_ENTIRE_RANGE, 0x0000, 0x0cf7);
	res_word(a, RES_TYPE_IO, RES_IO_ENTIRE_RANGE, 0x0d00, 0xffff);
	if (p->pci_mmio_size)
		res_dword_mem(a, p->pci_mmio_base, p->pci_mmio_size);
	emit(a, end, sizeof(end));
	if (!a->overflow)
		a->p[size_at] = (u8)(a->len - crs);
	pkg_end(a, buf);

	emit_prt(a);
	pkg_end(a, dev);
	pkg_end(a, scope);
}

/* ---- the tables ---- */

/* The AML is written in place, after the header, in what room is left. */
static int build_dsdt(struct out *o, const struct acpi_platform *p, u64 *gpa)
{
	struct acpi_hdr *h = take(o, sizeof(*h), 8, gpa);
	struct aml body;

	if (!h)
		return -ENOSPC;
	body = (struct aml){ .p = (u8 *)(h + 1), .cap = o->size - o->used };
	emit_sleep_state(&body, "_S5_", ACPI_PM_SLP_TYP_S5);
	if (p->pci_root)
		emit_pci_root(&body, p);
	if (body.overflow)
		return -ENOSPC;
	o->used += body.len;
	header(h, "DSDT", (u32)(sizeof(*h) + body.len), DSDT_REVISION);
	seal(h);
	return 0;
}

static int build_facs(struct out *o, u64 *gpa)
{
	struct acpi_facs *f = take(o, sizeof(*f), FACS_ALIGN, gpa);

	if (!f)
		return -ENOSPC;
	memcpy(f->signature, "FACS", 4); /* no checksum (5.2.10) */
	f->length = sizeof(*f);
	f->version = FACS_VERSION;
	return 0;
}

static int build_fadt(struct out *o, const struct acpi_platform *p, u64 facs, u64 dsdt, u64 *gpa)
{
	struct acpi_fadt *f = take(o, sizeof(*f), 8, gpa);

	if (!f)
		return -ENOSPC;
	header(&f->hdr, "FACP", sizeof(*f), FADT_REVISION);
	f->firmware_ctrl = low32(facs);
	f->dsdt = low32(dsdt);
	f->sci_int = p->sci_irq;
	/* SMI_CMD 0: no transition to make, the OS finds ACPI mode on (5.2.9, SMI_CMD). */
	f->pm1a_evt_blk = p->pm1a_evt_port;
	f->pm1a_cnt_blk = p->pm1a_cnt_port;
	f->pm_tmr_blk = p->pm_tmr_port;
	f->pm1_evt_len = ACPI_PM1_EVT_LEN;
	f->pm1_cnt_len = ACPI_PM1_CNT_LEN;
	f->pm_tmr_len = ACPI_PM_TMR_LEN;
	f->p_lvl2_lat = 101;  /* > 100: no C2 */
	f->p_lvl3_lat = 1001; /* > 1000: no C3 */
	f->century = p->rtc_century;
	f->iapc_boot_arch = p->iapc_boot_arch;
	f->flags = ACPI_FADT_WBINVD | ACPI_FADT_PROC_C1 | ACPI_FADT_SLP_BUTTON | ACPI_FADT_FIX_RTC |
		   ACPI_FADT_TMR_VAL_EXT | ACPI_FADT_RESET_REG_SUP;
	f->reset_reg = io_gas(p->reset_port, 1, GAS_BYTE);
	f->reset_value = p->reset_value;
	f->minor_version = FADT_MINOR;
	f->x_firmware_ctrl = facs;
	f->x_dsdt = dsdt;
	f->x_pm1a_evt_blk = io_gas(p->pm1a_evt_port, ACPI_PM1_EVT_LEN, GAS_WORD);
	f->x_pm1a_cnt_blk = io_gas(p->pm1a_cnt_port, ACPI_PM1_CNT_LEN, GAS_WORD);
	f->x_pm_tmr_blk = io_gas(p->pm_tmr_port, ACPI_PM_TMR_LEN, GAS_DWORD);
	memcpy(&f->hypervisor_vendor_id, "UTSUWA\0\0", 8);
	seal(&f->hdr);
	return 0;
}

static int build_madt(struct out *o, const struct acpi_platform *p, u64 *gpa)
{
	u32 len = sizeof(struct acpi_madt) + p->nr_cpus * sizeof(struct madt_lapic) +
		  sizeof(struct madt_ioapic) + 2 * sizeof(struct madt_iso) +
		  sizeof(struct madt_lapic_nmi);
	struct acpi_madt *m = take(o, len, 8, gpa);
	u8 *e;

	if (!m)
		return -ENOSPC;
	header(&m->hdr, "APIC", len, MADT_REVISION);
	m->lapic_addr = p->lapic_addr;
	m->flags = MADT_PCAT_COMPAT; /* there are 8259s, for the OS to mask */
	e = (u8 *)(m + 1);
	for (u32 i = 0; i < p->nr_cpus; i++) {
		struct madt_lapic l = { MADT_LAPIC, sizeof(l), (u8)i, (u8)i, MADT_ENABLED };

		memcpy(e, &l, sizeof(l));
		e += sizeof(l);
	}
	struct madt_ioapic io = { MADT_IOAPIC, sizeof(io), p->ioapic_id, 0, p->ioapic_addr,
				  p->ioapic_gsi_base };
	/* The PIT's IRQ 0 is wired to IOAPIC pin 2 (the PC's convention); the SCI
	 * is a level, active-high line (5.2.12.5 and 5.2.9: SCI_INT). */
	struct madt_iso iso[2] = {
		{ MADT_ISO, sizeof(iso[0]), 0, 0, 2, 0 },
		{ MADT_ISO, sizeof(iso[0]), 0, p->sci_irq, p->sci_irq, MPS_ACTIVE_HIGH | MPS_LEVEL },
	};
	struct madt_lapic_nmi nmi = { MADT_LAPIC_NMI, sizeof(nmi), MADT_ALL_CPUS, 0, 1 };

	memcpy(e, &io, sizeof(io));
	e += sizeof(io);
	memcpy(e, iso, sizeof(iso));
	e += sizeof(iso);
	memcpy(e, &nmi, sizeof(nmi));
	seal(&m->hdr);
	return 0;
}

/* The XSDT (8-byte entries) or RSDT (4-byte entries) listing tables[]. */
static int build_root(struct out *o, bool xsdt, const u64 *tables, unsigned n, u64 *gpa)
{
	unsigned esize = xsdt ? 8 : 4;
	u32 len = (u32)(sizeof(struct acpi_hdr) + n * esize);
	struct acpi_hdr *h = take(o, len, 8, gpa);

	if (!h)
		return -ENOSPC;
	header(h, xsdt ? "XSDT" : "RSDT", len, 1);
	for (unsigned i = 0; i < n; i++)
		memcpy((u8 *)(h + 1) + i * esize, &tables[i], esize); /* little-endian */
	seal(h);
	return 0;
}

void acpi_platform_defaults(struct acpi_platform *p, u32 nr_cpus)
{
	*p = (struct acpi_platform){
		.nr_cpus = nr_cpus,
		.lapic_addr = ACPI_LAPIC_ADDR,
		.ioapic_id = (u8)nr_cpus,
		.ioapic_addr = ACPI_IOAPIC_ADDR,
		.ioapic_gsi_base = 0,
		.pm1a_evt_port = ACPI_PM_BASE + ACPI_PM1_STS,
		.pm1a_cnt_port = ACPI_PM_BASE + ACPI_PM1_CNT,
		.pm_tmr_port = ACPI_PM_BASE + ACPI_PM_TMR,
		.sci_irq = ACPI_SCI_IRQ,
		.reset_port = ACPI_RESET_PORT,
		.reset_value = ACPI_RESET_VALUE,
		.rtc_century = ACPI_RTC_CENTURY,
		.iapc_boot_arch = ACPI_IAPC_LEGACY_DEVICES | ACPI_IAPC_VGA_NOT_PRESENT,
		.pci_root = true,
		.pci_mmio_base = 0xc0000000u,
		.pci_mmio_size = 0xfeb00000u - 0xc0000000u,
	};
}

static bool platform_valid(const struct acpi_platform *p)
{
	return p->nr_cpus >= 1 && p->nr_cpus <= 255 && p->sci_irq < 16 && p->pm1a_evt_port &&
	       p->pm1a_cnt_port && p->pm_tmr_port &&
	       (!p->pci_mmio_size || (u64)p->pci_mmio_base + p->pci_mmio_size <= (1ULL << 32));
}

int acpi_tables_build(void *buf, size_t size, u64 gpa, const struct acpi_platform *p,
		      u64 *rsdp_gpa)
{
	struct out o = { .buf = buf, .size = size, .gpa = gpa };
	u64 rsdp_at, facs = 0, dsdt = 0, fadt = 0, madt = 0, xsdt = 0, rsdt = 0, tables[2];
	struct acpi_rsdp *r;
	int ret;

	if (!buf || !p || !platform_valid(p) || !IS_ALIGNED(gpa, 16) || gpa + size < gpa)
		return -EINVAL;
	r = take(&o, sizeof(*r), 16, &rsdp_at);
	if (!r)
		return -ENOSPC;
	ret = build_facs(&o, &facs);
	if (!ret)
		ret = build_dsdt(&o, p, &dsdt);
	if (!ret)
		ret = build_fadt(&o, p, facs, dsdt, &fadt);
	if (!ret)
		ret = build_madt(&o, p, &madt);
	tables[0] = fadt;
	tables[1] = madt;
	if (!ret)
		ret = build_root(&o, true, tables, 2, &xsdt);
	/* An RSDT too, for OSes before ACPI 2.0, when every table is below 4 GiB. */
	if (!ret && gpa + size <= (1ULL << 32))
		ret = build_root(&o, false, tables, 2, &rsdt);
	if (ret)
		return ret;

	memcpy(r->signature, "RSD PTR ", 8);
	memcpy(r->oem_id, OEM_ID, 6);
	r->revision = 2;
	r->rsdt_addr = low32(rsdt);
	r->length = sizeof(*r);
	r->xsdt_addr = xsdt;
	r->checksum = checksum(r, RSDP_V1_LEN);
	r->ext_checksum = checksum(r, sizeof(*r));
	if (rsdp_gpa)
		*rsdp_gpa = rsdp_at;
	return (int)o.used;
}
