#include "unit.h"
#include "hv/config.h"

#include <string.h>

/* Every report, kept for the checks. */
static char msgs[128][256];
static int nr_msgs;

static void collect(void *ctx, const char *msg)
{
	(*(int *)ctx)++;
	if (nr_msgs < (int)ARRAY_SIZE(msgs))
		snprintf(msgs[nr_msgs++], sizeof(msgs[0]), "%s", msg);
}

static struct hv_config cfg;
static int calls;

/* Parses text into a fresh cfg; returns the problem count. */
static int parse(const char *text)
{
	int n;

	config_init(&cfg);
	nr_msgs = 0;
	calls = 0;
	n = config_parse(&cfg, text, strlen(text), collect, &calls);
	if (n != calls && n <= 64)
		fprintf(stderr, "problems %d but %d reports\n", n, calls);
	return n;
}

static bool reported(const char *msg)
{
	for (int i = 0; i < nr_msgs; i++)
		if (!strcmp(msgs[i], msg))
			return true;
	for (int i = 0; i < nr_msgs; i++)
		fprintf(stderr, "  got: %s\n", msgs[i]);
	fprintf(stderr, "  wanted: %s\n", msg);
	return false;
}

static const struct vm_config *find(const char *name)
{
	for (unsigned i = 0; i < cfg.nr_vms; i++)
		if (!strcmp(cfg.vms[i].name, name))
			return &cfg.vms[i];
	return NULL;
}

TEST(init_defaults)
{
	memset(&cfg, 0xa5, sizeof(cfg));
	config_init(&cfg);
	CHECK_EQ(cfg.nr_vms, 0);
	CHECK_EQ(cfg.on_done, DONE_HALT);
	CHECK_EQ(cfg.slice_ms, 10);
	CHECK_EQ(config_parse(&cfg, "", 0, collect, &calls), 0);
	CHECK_EQ(config_parse(&cfg, NULL, 100, collect, &calls), 0);
	CHECK_EQ(cfg.nr_vms, 0);
}

TEST(vm_defaults)
{
	const struct vm_config *v;

	CHECK_EQ(parse("vm=web,image=web.elf"), 0);
	CHECK_EQ(cfg.nr_vms, 1);
	v = &cfg.vms[0];
	CHECK(!strcmp(v->name, "web"));
	CHECK(!strcmp(v->image, "web.elf"));
	CHECK_EQ(v->mode, START_LONG64);
	CHECK_EQ(v->mem, 16 << 20);
	CHECK_EQ(v->cpus, 1);
	CHECK_EQ(v->pin, 0);
	CHECK_EQ(v->load, 0x100000); /* the mode's default, filled in */
	CHECK_EQ(v->arg, 0);
	CHECK(!v->arg_set);
	CHECK(!v->expect_set);
	CHECK(!v->expect_stop);
}

TEST(every_key)
{
	const struct vm_config *v;

	CHECK_EQ(parse("vm=a-1_Z,image=boot/a.bin,mode=prot,mem=64M,cpus=4,pin=1-3,"
		       "load=0x200000,arg=0xdeadbeef,expect=7"),
		 0);
	CHECK_EQ(cfg.nr_vms, 1);
	v = &cfg.vms[0];
	CHECK(!strcmp(v->name, "a-1_Z"));
	CHECK(!strcmp(v->image, "boot/a.bin"));
	CHECK_EQ(v->mode, START_PROT32);
	CHECK_EQ(v->mem, 64ULL << 20);
	CHECK_EQ(v->cpus, 4);
	CHECK_EQ(v->pin, 0xe);
	CHECK_EQ(v->load, 0x200000);
	CHECK_EQ(v->arg, 0xdeadbeef);
	CHECK(v->arg_set);
	CHECK(v->expect_set);
	CHECK(!v->expect_stop);
	CHECK_EQ(v->expect_code, 7);
}

TEST(modes_and_load_defaults)
{
	CHECK_EQ(parse("vm=r,image=r,mode=real vm=p,image=p,mode=prot vm=l,image=l,mode=long"), 0);
	CHECK_EQ(cfg.nr_vms, 3);
	CHECK_EQ(find("r")->mode, START_REAL16);
	CHECK_EQ(find("r")->load, 0x1000);
	CHECK_EQ(find("p")->mode, START_PROT32);
	CHECK_EQ(find("p")->load, 0x100000);
	CHECK_EQ(find("l")->mode, START_LONG64);
	CHECK_EQ(find("l")->load, 0x100000);

	/* load=0 means the default too; decimal addresses */
	CHECK_EQ(parse("vm=r,image=r,mode=real,load=0 vm=d,image=d,load=65536"), 0);
	CHECK_EQ(find("r")->load, 0x1000);
	CHECK_EQ(find("d")->load, 65536);
	CHECK_EQ(parse("vm=r,image=r,mode=real,load=0xffff"), 0);
	CHECK_EQ(cfg.vms[0].load, 0xffff);
}

TEST(sizes)
{
	static const struct {
		const char *mem;
		unsigned long long bytes;
	} ok[] = {
		{ "2M", 2ULL << 20 },    { "4m", 4ULL << 20 },     { "2048K", 2ULL << 20 },
		{ "6144k", 6ULL << 20 }, { "1G", 1ULL << 30 },     { "3g", 3ULL << 30 },
		{ "2097152", 2ULL << 20 }, { "0x400000", 4ULL << 20 }, { "0x2M", 2ULL << 20 },
		{ "1024G", 1ULL << 40 },
	};
	char text[128];

	for (unsigned i = 0; i < ARRAY_SIZE(ok); i++) {
		snprintf(text, sizeof(text), "vm=a,image=a,mem=%s", ok[i].mem);
		CHECK_EQ(parse(text), 0);
		CHECK_EQ(cfg.nr_vms, 1);
		CHECK_EQ(cfg.vms[0].mem, ok[i].bytes);
	}
}

TEST(bad_sizes)
{
	CHECK_EQ(parse("vm=web,image=w,mem=3M"), 1);
	CHECK(reported("config: vm 'web': field 'mem': '3M' is not a multiple of 2M; vm not started"));
	CHECK_EQ(cfg.nr_vms, 0);
	CHECK_EQ(parse("vm=web,image=w,mem=1M"), 1);
	CHECK(reported("config: vm 'web': field 'mem': '1M' is less than 2M; vm not started"));
	CHECK_EQ(parse("vm=web,image=w,mem=0"), 1);
	CHECK(reported("config: vm 'web': field 'mem': '0' is less than 2M; vm not started"));
	CHECK_EQ(parse("vm=web,image=w,mem=2T"), 1);
	CHECK(reported("config: vm 'web': field 'mem': '2T' is not a size (a number, then K, M "
		       "or G); vm not started"));
	CHECK_EQ(parse("vm=web,image=w,mem=M"), 1);
	CHECK_EQ(parse("vm=web,image=w,mem="), 1);
	CHECK_EQ(parse("vm=web,image=w,mem=-2M"), 1);
	CHECK_EQ(parse("vm=web,image=w,mem=2MM"), 1);
	CHECK_EQ(parse("vm=web,image=w,mem=0x"), 1);
	CHECK_EQ(parse("vm=web,image=w,mem=1026G"), 1);
	CHECK(reported("config: vm 'web': field 'mem': '1026G' is more than 1024G; vm not started"));
	/* overflow: 2^64 + 2M, and a suffix that overflows */
	CHECK_EQ(parse("vm=web,image=w,mem=18446744073711648768"), 1);
	CHECK_EQ(parse("vm=web,image=w,mem=18014398509481984K"), 1);
	CHECK_EQ(parse("vm=web,image=w,mem=0xffffffffffffffffffff"), 1);
	CHECK_EQ(cfg.nr_vms, 0);
}

TEST(modes_bad)
{
	CHECK_EQ(parse("vm=x,image=x,mode=LONG"), 1);
	CHECK(reported("config: vm 'x': field 'mode': 'LONG' is not real, prot or long; vm not "
		       "started"));
	CHECK_EQ(parse("vm=x,image=x,mode="), 1);
	CHECK_EQ(parse("vm=x,image=x,mode"), 1);
	CHECK(reported("config: vm 'x': field 'mode': no value (mode=...); vm not started"));
	CHECK_EQ(cfg.nr_vms, 0);
}

TEST(cpus)
{
	CHECK_EQ(parse("vm=x,image=x,cpus=16"), 0);
	CHECK_EQ(cfg.vms[0].cpus, 16);
	CHECK_EQ(parse("vm=x,image=x,cpus=0"), 1);
	CHECK(reported("config: vm 'x': field 'cpus': '0' is not a vCPU count from 1 to 16; vm not "
		       "started"));
	CHECK_EQ(parse("vm=x,image=x,cpus=17"), 1);
	CHECK_EQ(parse("vm=x,image=x,cpus=two"), 1);
	CHECK_EQ(parse("vm=x,image=x,cpus=4294967297"), 1); /* would wrap a u32 to 1 */
	CHECK_EQ(cfg.nr_vms, 0);
}

TEST(cpu_lists)
{
	static const struct {
		const char *list;
		unsigned long long mask;
	} ok[] = {
		{ "", 0 },        { "2", 0x4 },   { "1+2", 0x6 },          { "1-3", 0xe },
		{ "0+4-5", 0x31 }, { "3-3", 0x8 }, { "63", 1ULL << 63 },    { "0-63", ~0ULL },
		{ "1+1", 0x2 },   { "0x3", 0x8 },
	};
	static const char *bad[] = { "+", "1+", "+1", "1++2", "a", "1-", "-1", "1-2-3", "1,2",
				     "--", "0x", "1-0x" };
	char text[128];

	for (unsigned i = 0; i < ARRAY_SIZE(ok); i++) {
		snprintf(text, sizeof(text), "vm=a,image=a,pin=%s", ok[i].list);
		CHECK_EQ(parse(text), 0);
		CHECK_EQ(cfg.nr_vms, 1);
		CHECK_EQ(cfg.vms[0].pin, ok[i].mask);
	}
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		snprintf(text, sizeof(text), "vm=a,image=a,pin=%s", bad[i]);
		CHECK(parse(text) >= 1);
		CHECK_EQ(cfg.nr_vms, 0);
	}
	CHECK_EQ(parse("vm=a,image=a,pin=x"), 1);
	CHECK(reported("config: vm 'a': field 'pin': 'x' is not a CPU list (like 2, 1-3 or 1+3); "
		       "vm not started"));
	CHECK_EQ(parse("vm=a,image=a,pin=1+64"), 1);
	CHECK(reported("config: vm 'a': field 'pin': CPU 64 is not below 64; vm not started"));
	CHECK_EQ(parse("vm=a,image=a,pin=5-100000000000000000000"), 1);
	CHECK_EQ(parse("vm=a,image=a,pin=3-1"), 1);
	CHECK(reported("config: vm 'a': field 'pin': '3-1' is a range from high to low; vm not "
		       "started"));
}

TEST(pins_are_exclusive)
{
	CHECK_EQ(parse("vm=a,image=a,pin=1-2 vm=b,image=b,pin=2+3 vm=c,image=c,pin=3"), 1);
	CHECK(reported("config: vm 'b': field 'pin': CPU 2 is already pinned to vm 'a'; vm not "
		       "started"));
	CHECK_EQ(cfg.nr_vms, 2);
	CHECK_EQ(find("a")->pin, 0x6);
	CHECK_EQ(find("c")->pin, 0x8);
	CHECK(!find("b"));
	/* unpinned VMs share */
	CHECK_EQ(parse("vm=a,image=a vm=b,image=b,pin="), 0);
	CHECK_EQ(cfg.nr_vms, 2);
}

/* net: a bare word derives a stable locally administered MAC from the
 * name; net=mac= sets one; bad MACs and one MAC on two VMs are refused. */
TEST(net)
{
	const struct vm_config *v;
	u8 first[6];

	CHECK_EQ(parse("vm=a,image=x,net vm=b,image=x vm=c,image=x,net=mac=52:54:00:AB:cd:01"), 0);
	v = find("a");
	CHECK(v && v->net);
	if (v) {
		CHECK_EQ(v->mac[0], 0x02);
		memcpy(first, v->mac, 6);
	}
	v = find("b");
	CHECK(v && !v->net);
	v = find("c");
	CHECK(v && v->net && v->mac[0] == 0x52 && v->mac[3] == 0xab && v->mac[5] == 0x01);
	/* The same name, the same MAC; another name, another. */
	CHECK_EQ(parse("vm=a,image=x,net vm=a2,image=x,net"), 0);
	v = find("a");
	CHECK(v && !memcmp(v->mac, first, 6));
	CHECK(find("a2") && memcmp(find("a2")->mac, first, 6));
	CHECK_EQ(parse("vm=a,image=x,net=mac=52:54:00:ab:cd"), 1);
	CHECK(reported("config: vm 'a': field 'net': 'mac=52:54:00:ab:cd' is not "
		       "mac=xx:xx:xx:xx:xx:xx; vm not started"));
	CHECK_EQ(parse("vm=a,image=x,net=on"), 1);
	CHECK_EQ(parse("vm=a,image=x,net=mac=52-54-00-ab-cd-01"), 1);
	CHECK_EQ(parse("vm=a,image=x,net=mac=01:00:5e:00:00:01"), 1);
	CHECK(reported("config: vm 'a': field 'net': '01:00:5e:00:00:01' is a multicast address "
		       "(the first byte is odd); vm not started"));
	CHECK_EQ(parse("vm=a,image=x,net=mac=00:00:00:00:00:00"), 1);
	CHECK_EQ(parse("vm=a,image=x,net,net"), 1);
	CHECK_EQ(parse("vm=a,image=x,net=mac=02:00:00:00:00:01 vm=b,image=x,net=mac=02:00:00:00:00:01"), 1);
	CHECK(reported("config: vm 'b': field 'net': its MAC is vm 'a''s already; vm not started"));
	CHECK(find("a") && !find("b"));
}

/* disk=: several per VM, ",ro" after one, module: and gpt: only; one
 * writer per partition across VMs (issue 10). */
TEST(pci)
{
	const struct vm_config *v;

	CHECK_EQ(parse("vm=a,image=x,pci=00:03.0,pci=0A:1f.7 vm=b,image=x,pci=00:04.1"), 0);
	v = find("a");
	CHECK(v && v->nr_pci == 2);
	if (v) {
		CHECK(v->pci[0].bus == 0 && v->pci[0].dev == 3 && v->pci[0].fn == 0);
		CHECK(v->pci[1].bus == 0x0a && v->pci[1].dev == 0x1f && v->pci[1].fn == 7);
	}
	CHECK(find("b") && find("b")->nr_pci == 1);
	/* One owner per function. */
	CHECK_EQ(parse("vm=a,image=x,pci=00:03.0 vm=b,image=x,pci=00:03.0"), 1);
	CHECK(reported("config: vm 'b': field 'pci': 00:03.0 is passed through to vm 'a' "
		       "already; vm not started"));
	CHECK(find("a") && !find("b"));
	CHECK_EQ(parse("vm=a,image=x,pci=00:03.0,pci=00:03.0"), 1);
	CHECK_EQ(parse("vm=a,image=x,pci=00:20.0"), 1); /* device 0x20 */
	CHECK(reported("config: vm 'a': field 'pci': '00:20.0' is not bus:device.function "
		       "(00:03.0; device up to 1f, function up to 7); vm not started"));
	CHECK_EQ(parse("vm=a,image=x,pci=00:03.8"), 1);
	CHECK_EQ(parse("vm=a,image=x,pci=0:3.0"), 1);
	CHECK_EQ(parse("vm=a,image=x,pci=00:03"), 1);
	CHECK_EQ(parse("vm=a,image=x,pci=00:03.0,pci=00:04.0,pci=00:05.0,pci=00:06.0,"
		       "pci=00:07.0"), 1);
	CHECK(reported("config: vm 'a': field 'pci': more than 4 functions; vm not started"));
	CHECK_EQ(parse("pci_noiommu=1"), 1); /* no such option: DMA is always confined */
}

TEST(disks)
{
	const struct vm_config *v;

	CHECK_EQ(parse("vm=a,image=x,disk=module:d.img,disk=gpt:data,ro,disk=gpt:log,mem=16M"), 0);
	v = find("a");
	CHECK(v != NULL);
	if (!v)
		return;
	CHECK_EQ(v->nr_disks, 3);
	CHECK(!strcmp(v->disks[0].spec, "module:d.img") && !v->disks[0].ro);
	CHECK(!strcmp(v->disks[1].spec, "gpt:data") && v->disks[1].ro);
	CHECK(!strcmp(v->disks[2].spec, "gpt:log") && !v->disks[2].ro);

	CHECK_EQ(parse("vm=a,image=x,disk=nvme0"), 1);
	CHECK(reported("config: vm 'a': field 'disk': 'nvme0' is neither module:<name> nor gpt:<name>; "
		       "vm not started"));
	CHECK_EQ(parse("vm=a,image=x,disk=gpt:"), 1);
	CHECK_EQ(parse("vm=a,image=x,disk=gpt:1,disk=gpt:2,disk=gpt:3,disk=gpt:4,disk=gpt:5"), 1);
	CHECK(reported("config: vm 'a': field 'disk': more than 4 disks; vm not started"));
	/* "ro" alone, not after a disk, is an unknown field. */
	CHECK_EQ(parse("vm=a,image=x,ro"), 1);

	/* Two writers of one partition: the second VM is refused. A reader, or
	 * a module (each VM's own copy), is fine. */
	CHECK_EQ(parse("vm=a,image=x,disk=gpt:data vm=b,image=x,disk=gpt:data"), 1);
	CHECK(reported("config: vm 'b': field 'disk': 'gpt:data' is written by vm 'a' already; two VMs "
		       "may not write one disk (add ,ro); vm not started"));
	CHECK(find("a") && !find("b"));
	CHECK_EQ(parse("vm=a,image=x,disk=gpt:data vm=b,image=x,disk=gpt:data,ro"), 0);
	CHECK_EQ(parse("vm=a,image=x,disk=module:m vm=b,image=x,disk=module:m"), 0);
	CHECK_EQ(cfg.nr_vms, 2);
}

TEST(load_checks)
{
	CHECK_EQ(parse("vm=r,image=r,mode=real,load=0x10000"), 1);
	CHECK(reported("config: vm 'r': field 'load': 0x10000 is not below 0x10000, as mode=real "
		       "requires; vm not started"));
	/* the order of fields does not matter */
	CHECK_EQ(parse("vm=r,load=0x20000,image=r,mode=real"), 1);
	CHECK_EQ(parse("vm=r,image=r,mem=2M,load=0x200000"), 1);
	CHECK(reported("config: vm 'r': field 'load': 0x200000 is outside the VM's 2M of memory; "
		       "vm not started"));
	CHECK_EQ(parse("vm=r,image=r,mem=2M,load=0x1fffff"), 0);
	CHECK_EQ(parse("vm=r,image=r,load=0x1000000"), 1); /* the default 16M */
	CHECK_EQ(parse("vm=r,image=r,load=zero"), 1);
	CHECK(reported("config: vm 'r': field 'load': 'zero' is not an address (0x... or decimal); "
		       "vm not started"));
	CHECK_EQ(parse("vm=r,image=r,load=0x1g"), 1);
	CHECK_EQ(cfg.nr_vms, 0);
}

TEST(arg_and_expect)
{
	CHECK_EQ(parse("vm=a,image=a,arg=0 vm=b,image=b,arg=4294967295 vm=c,image=c,expect=stop "
		       "vm=d,image=d,expect=-1 vm=e,image=e,expect=0x10 vm=f,image=f,expect=+3 "
		       "vm=g,image=g,expect=-2147483648 vm=h,image=h,expect=2147483647"),
		 0);
	CHECK_EQ(cfg.nr_vms, 8);
	CHECK(find("a")->arg_set);
	CHECK_EQ(find("a")->arg, 0);
	CHECK_EQ(find("b")->arg, 0xffffffff);
	CHECK(find("c")->expect_set && find("c")->expect_stop);
	CHECK(find("d")->expect_set && !find("d")->expect_stop);
	CHECK_EQ(find("d")->expect_code, -1);
	CHECK_EQ(find("e")->expect_code, 16);
	CHECK_EQ(find("f")->expect_code, 3);
	CHECK(find("g")->expect_code == -2147483647 - 1);
	CHECK_EQ(find("h")->expect_code, 2147483647);

	CHECK_EQ(parse("vm=a,image=a,arg=4294967296"), 1);
	CHECK(reported("config: vm 'a': field 'arg': '4294967296' is not a 32-bit number; vm not "
		       "started"));
	CHECK_EQ(parse("vm=a,image=a,arg=-1"), 1);
	CHECK_EQ(parse("vm=a,image=a,expect=halt"), 1);
	CHECK(reported("config: vm 'a': field 'expect': 'halt' is neither an exit code nor 'stop'; "
		       "vm not started"));
	CHECK_EQ(parse("vm=a,image=a,expect=2147483648"), 1);
	CHECK_EQ(parse("vm=a,image=a,expect=-2147483649"), 1);
	CHECK_EQ(parse("vm=a,image=a,expect=-"), 1);
	CHECK_EQ(parse("vm=a,image=a,expect="), 1);
	CHECK_EQ(cfg.nr_vms, 0);
}

TEST(on_crash)
{
	CHECK_EQ(parse("vm=a,image=a vm=b,image=b,on_crash=reset vm=c,image=c,on_crash=pause "
		       "vm=d,image=d,on_crash=stop"),
		 0);
	CHECK_EQ(find("a")->on_crash, ON_CRASH_STOP);
	CHECK_EQ(find("b")->on_crash, ON_CRASH_RESET);
	CHECK_EQ(find("c")->on_crash, ON_CRASH_PAUSE);
	CHECK_EQ(find("d")->on_crash, ON_CRASH_STOP);
	CHECK_EQ(parse("vm=a,image=a,on_crash=restart"), 1);
	CHECK(reported("config: vm 'a': field 'on_crash': 'restart' is not stop, reset or pause; "
		       "vm not started"));
	CHECK_EQ(cfg.nr_vms, 0);
}

TEST(paging)
{
	CHECK_EQ(parse("vm=a,image=a vm=b,image=b,paging=nested vm=c,image=c,paging=shadow"), 0);
	CHECK_EQ(find("a")->paging, PAGING_AUTO);
	CHECK_EQ(find("b")->paging, PAGING_NESTED);
	CHECK_EQ(find("c")->paging, PAGING_SHADOW);
	CHECK_EQ(parse("vm=a,image=a,paging=npt"), 1);
	CHECK(reported("config: vm 'a': field 'paging': 'npt' is not nested or shadow; "
		       "vm not started"));
	CHECK_EQ(parse("vm=a,image=a,paging=shadow,paging=nested"), 1);
	CHECK_EQ(cfg.nr_vms, 0);
}

TEST(exitport)
{
	CHECK_EQ(parse("vm=a,image=a vm=b,image=b,exitport=on vm=c,image=c,exitport=off"), 0);
	CHECK(!find("a")->exitport);
	CHECK(find("b")->exitport);
	CHECK(!find("c")->exitport);
	CHECK_EQ(parse("vm=a,image=a,exitport=yes"), 1);
	CHECK(reported("config: vm 'a': field 'exitport': 'yes' is not on or off; vm not started"));
	CHECK_EQ(cfg.nr_vms, 0);
}

TEST(tsc_khz)
{
	CHECK_EQ(parse("vm=a,image=a vm=b,image=b,tsc_khz=1000000 vm=c,image=c,tsc_khz=1000"), 0);
	CHECK_EQ(find("a")->tsc_khz, 0);
	CHECK_EQ(find("b")->tsc_khz, 1000000);
	CHECK_EQ(find("c")->tsc_khz, 1000);
	CHECK_EQ(parse("vm=a,image=a,tsc_khz=999"), 1);
	CHECK(reported("config: vm 'a': field 'tsc_khz': '999' is not a TSC rate in kHz from 1000 "
		       "to 100000000; vm not started"));
	CHECK_EQ(parse("vm=a,image=a,tsc_khz=100000001"), 1);
	CHECK_EQ(parse("vm=a,image=a,tsc_khz=2GHz"), 1);
	CHECK_EQ(cfg.nr_vms, 0);
}

TEST(images)
{
	char text[256], img[80];

	memset(img, 'i', 63);
	img[63] = 0;
	snprintf(text, sizeof(text), "vm=a,image=%s", img);
	CHECK_EQ(parse(text), 0);
	CHECK_EQ(strlen(cfg.vms[0].image), 63);

	snprintf(text, sizeof(text), "vm=a,image=%si", img); /* 64 characters */
	CHECK_EQ(parse(text), 1);
	CHECK(reported("config: vm 'a': field 'image': 'iiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiii...' "
		       "is longer than 63 characters; vm not started"));
	CHECK_EQ(parse("vm=a,image="), 1);
	CHECK(reported("config: vm 'a': field 'image': empty; vm not started"));
	CHECK_EQ(parse("vm=a,mem=4M"), 1);
	CHECK(reported("config: vm 'a': field 'image': missing; vm not started"));
	CHECK_EQ(parse("vm=a,image=\x01x"), 1);
	CHECK_EQ(cfg.nr_vms, 0);
}

TEST(names)
{
	CHECK_EQ(parse("vm=abcdefghijklmno,image=a"), 0); /* 15 characters */
	CHECK_EQ(cfg.nr_vms, 1);
	CHECK(!strcmp(cfg.vms[0].name, "abcdefghijklmno"));
	CHECK_EQ(parse("vm=abcdefghijklmnop,image=a"), 1);
	CHECK(reported("config: vm 'abcdefghijklmnop': a name is 1-15 characters of A-Z a-z 0-9 _ "
		       "-; vm not started"));
	CHECK_EQ(parse("vm=,image=a"), 1);
	CHECK(reported("config: vm '': a name is 1-15 characters of A-Z a-z 0-9 _ -; vm not "
		       "started"));
	CHECK_EQ(parse("vm=a.b,image=a"), 1);
	CHECK_EQ(parse("vm=a=b,image=a"), 1);
	CHECK_EQ(parse("vm="), 2); /* no name, no image */
	CHECK_EQ(parse("vm=\x7f\x80,image=a"), 1);
	CHECK(reported("config: vm '?" "?': a name is 1-15 characters of A-Z a-z 0-9 _ -; vm not "
		       "started"));
	CHECK_EQ(cfg.nr_vms, 0);
	/* a bad name and a bad field are both reported */
	CHECK_EQ(parse("vm=a!,image=a,mem=5M"), 2);
	CHECK(reported("config: vm 'a!': field 'mem': '5M' is not a multiple of 2M; vm not "
		       "started"));
}

TEST(fields_unknown_repeated_empty)
{
	CHECK_EQ(parse("vm=a,image=a,colour=blue"), 1);
	CHECK(reported("config: vm 'a': unknown field 'colour'; vm not started"));
	CHECK_EQ(parse("vm=a,image=a,,mem=4M,"), 0); /* empty fields are skipped */
	CHECK_EQ(cfg.vms[0].mem, 4 << 20);
	CHECK_EQ(parse("vm=a,image=a,mem=4M,mem=8M"), 1);
	CHECK(reported("config: vm 'a': field 'mem' is given twice; vm not started"));
	CHECK_EQ(parse("vm=a,image=a,=4M"), 1);
	CHECK(reported("config: vm 'a': unknown field ''; vm not started"));
	CHECK_EQ(cfg.nr_vms, 0);
}

TEST(bad_vm_dropped_others_kept)
{
	CHECK_EQ(parse("vm=one,image=1 vm=web,image=w,mem=3M vm=two,image=2,cpus=2 "
		       "vm=bad,image=b,mode=x,cpus=0"),
		 3);
	CHECK(reported("config: vm 'web': field 'mem': '3M' is not a multiple of 2M; vm not started"));
	CHECK(reported("config: vm 'bad': field 'mode': 'x' is not real, prot or long; vm not "
		       "started"));
	CHECK(reported("config: vm 'bad': field 'cpus': '0' is not a vCPU count from 1 to 16; vm "
		       "not started"));
	CHECK_EQ(cfg.nr_vms, 2);
	CHECK(!strcmp(cfg.vms[0].name, "one"));
	CHECK(!strcmp(cfg.vms[1].name, "two"));
	CHECK_EQ(cfg.vms[1].cpus, 2);
}

TEST(duplicates)
{
	CHECK_EQ(parse("vm=a,image=first vm=a,image=second vm=b,image=b"), 1);
	CHECK(reported("config: vm 'a': the name is already taken; this one is not started"));
	CHECK_EQ(cfg.nr_vms, 2);
	CHECK(!strcmp(find("a")->image, "first"));
	/* a dropped VM's name is not taken */
	CHECK_EQ(parse("vm=a,image=a,mem=1M vm=a,image=x"), 1);
	CHECK_EQ(cfg.nr_vms, 1);
	CHECK(!strcmp(cfg.vms[0].image, "x"));
}

TEST(too_many_vms)
{
	char text[4096];
	size_t n = 0;

	for (int i = 0; i < CONFIG_MAX_VMS + 2; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "vm=v%d,image=i%d ", i, i);
	CHECK_EQ(parse(text), 2);
	CHECK(reported("config: vm 'v16': more than 16 VMs; vm not started"));
	CHECK(reported("config: vm 'v17': more than 16 VMs; vm not started"));
	CHECK_EQ(cfg.nr_vms, CONFIG_MAX_VMS);
	CHECK(!strcmp(cfg.vms[15].name, "v15"));
}

TEST(globals)
{
	CHECK_EQ(parse("exit=qemu slice=1"), 0);
	CHECK_EQ(cfg.on_done, DONE_QEMU_EXIT);
	CHECK_EQ(cfg.slice_ms, 1);
	CHECK_EQ(parse("exit=bochs slice=1000"), 0);
	CHECK_EQ(cfg.on_done, DONE_BOCHS_EXIT);
	CHECK_EQ(cfg.slice_ms, 1000);
	CHECK_EQ(parse("exit=bochs exit=halt"), 0); /* the last one counts */
	CHECK_EQ(cfg.on_done, DONE_HALT);

	CHECK_EQ(parse("exit=reboot slice=0 slice=1001 slice=x slice="), 5);
	CHECK(reported("config: option 'exit': 'reboot' is not halt, qemu or bochs"));
	CHECK(reported("config: option 'slice': '0' is not a number of milliseconds from 1 to "
		       "1000"));
	CHECK(reported("config: option 'slice': '1001' is not a number of milliseconds from 1 to "
		       "1000"));
	CHECK_EQ(cfg.on_done, DONE_HALT);
	CHECK_EQ(cfg.slice_ms, 10);
}

/* api_token= and api_image_max=: the management API's (docs/api.md). A bad
 * token is refused without being shown: it must never reach a log. */
TEST(api_options)
{
	CHECK_EQ(parse("api_token=0123456789abcdef-._~+/XYZ api_image_max=64M"), 0);
	CHECK(!strcmp(cfg.api_token, "0123456789abcdef-._~+/XYZ"));
	CHECK_EQ(cfg.api_image_max, 64ULL << 20);
	CHECK_EQ(parse("vm=a,image=b"), 0);
	CHECK_EQ(cfg.api_token[0], 0); /* none: made at boot */
	CHECK_EQ(cfg.api_image_max, 0);
	CHECK_EQ(parse("api_token=short-secret api_token=has,comma0123456789 api_image_max=1 "
		       "api_image_max=65G api_image_max=x"), 5);
	CHECK(reported("config: option 'api_token': not 16 to 64 characters of A-Z a-z 0-9 . _ ~ "
		       "+ / - (the value is not shown); one is made at boot"));
	CHECK(reported("config: option 'api_image_max': '1' is not a size from 4K to 64G"));
	CHECK(reported("config: option 'api_image_max': '65G' is not a size from 4K to 64G"));
	for (int i = 0; i < nr_msgs; i++)
		CHECK(!strstr(msgs[i], "short-secret") && !strstr(msgs[i], "comma0123"));
	CHECK_EQ(cfg.api_token[0], 0);
	CHECK_EQ(parse("api_token=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), 0);
	CHECK_EQ(strlen(cfg.api_token), 64);
	CHECK_EQ(parse("api_token=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), 1);
}

/* hostip= and apiport=: the hypervisor's own address (core/netstack.c). */
TEST(host_network)
{
	static const u8 ip[4] = { 10, 0, 2, 50 }, gw[4] = { 10, 0, 2, 2 };
	static const u8 mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };

	CHECK_EQ(parse("vm=a,image=a"), 0);
	CHECK(!cfg.host.on); /* no netstack */
	CHECK_EQ(cfg.host.api_port, 8080);

	CHECK_EQ(parse("hostip=dhcp"), 0);
	CHECK(cfg.host.on && cfg.host.dhcp && !cfg.host.mac_set && !cfg.host.gw_set);
	CHECK_EQ(parse("hostip=dhcp,mac=02:11:22:33:44:55 apiport=80"), 0);
	CHECK(cfg.host.on && cfg.host.dhcp && cfg.host.mac_set);
	CHECK(!memcmp(cfg.host.mac, mac, 6));
	CHECK_EQ(cfg.host.api_port, 80);

	CHECK_EQ(parse("hostip=10.0.2.50/24,gw=10.0.2.2"), 0);
	CHECK(cfg.host.on && !cfg.host.dhcp && cfg.host.gw_set && !cfg.host.mac_set);
	CHECK(!memcmp(cfg.host.ip, ip, 4) && !memcmp(cfg.host.gw, gw, 4));
	CHECK_EQ(cfg.host.prefix, 24);
	CHECK_EQ(parse("hostip=10.0.2.50/32"), 0);
	CHECK(!cfg.host.gw_set);
	CHECK_EQ(cfg.host.prefix, 32);
	CHECK_EQ(parse("hostip=192.168.1.1/30,mac=02:11:22:33:44:55,gw=192.168.1.2,"), 0);
	CHECK(cfg.host.gw_set && cfg.host.mac_set);
	/* The last one counts, and a later one starts afresh. */
	CHECK_EQ(parse("hostip=10.0.2.50/24,gw=10.0.2.2 hostip=dhcp"), 0);
	CHECK(cfg.host.dhcp && !cfg.host.gw_set);

	CHECK_EQ(parse("hostip=10.0.2.50/24 hostip=10.0.2/24 hostip=1.2.3.4.5/8 hostip=256.0.0.1/8 "
		       "hostip=10.0.2.50 hostip=10.0.2.50/33 hostip=10.0.2.50/0 hostip=0x1.0.0.1/8 "
		       "hostip=10..2.50/24 hostip=10.0.2.50./24 hostip= hostip=DHCP"), 11);
	CHECK(reported("config: option 'hostip': '10.0.2/24' is not dhcp or an address a.b.c.d/n "
		       "(n 1-32)"));
	CHECK(reported("config: option 'hostip': '10.0.2.50' is not dhcp or an address a.b.c.d/n "
		       "(n 1-32)"));
	/* A bad value keeps the one before. */
	CHECK(cfg.host.on && !cfg.host.dhcp && cfg.host.prefix == 24);
	CHECK(!memcmp(cfg.host.ip, ip, 4));

	CHECK_EQ(parse("hostip=0.0.0.0/8 hostip=224.0.0.1/4 hostip=127.0.0.1/8 hostip=10.0.2.0/24 "
		       "hostip=10.0.2.255/24"), 5);
	CHECK(reported("config: option 'hostip': '224.0.0.1' is not a station's address"));
	CHECK(reported("config: option 'hostip': '10.0.2.255/24' is its network's or broadcast "
		       "address"));
	CHECK(!cfg.host.on);

	CHECK_EQ(parse("hostip=10.0.2.50/24,gw=10.0.3.1 hostip=10.0.2.50/24,gw=10.0.2.50 "
		       "hostip=10.0.2.50/24,gw=x hostip=dhcp,gw=10.0.2.2 "
		       "hostip=10.0.2.50/24,gw=10.0.2.2,gw=10.0.2.3 hostip=dhcp,mac=01:00:00:00:00:01 "
		       "hostip=dhcp,mac=00:00:00:00:00:00 hostip=dhcp,mac=x hostip=dhcp,dns=1.1.1.1"), 9);
	CHECK(reported("config: option 'hostip': gw: '10.0.3.1' is not another address of the "
		       "host's network"));
	CHECK(reported("config: option 'hostip': gw: 'x' is not an address a.b.c.d"));
	CHECK(reported("config: option 'hostip': 'gw=10.0.2.2' is not mac=xx:xx:xx:xx:xx:xx "
		       "(once)"));
	CHECK(reported("config: option 'hostip': 'gw=10.0.2.3' is not gw=a.b.c.d or "
		       "mac=xx:xx:xx:xx:xx:xx (each once)"));
	CHECK(reported("config: option 'hostip': mac: '01:00:00:00:00:01' is not a unicast MAC "
		       "xx:xx:xx:xx:xx:xx"));
	CHECK(!cfg.host.on);

	CHECK_EQ(parse("apiport=0 apiport=65536 apiport=x apiport=65535"), 3);
	CHECK(reported("config: option 'apiport': '65536' is not a TCP port from 1 to 65535"));
	CHECK_EQ(cfg.host.api_port, 65535);
}

/* console=<vm>: a VM name, checked against the VMs at boot (core/hv.c). */
TEST(console_option)
{
	CHECK_EQ(parse("vm=lin,image=a"), 0);
	CHECK_EQ(cfg.console[0], 0); /* none: the monitor */
	CHECK_EQ(parse("console=lin vm=lin,image=a"), 0);
	CHECK(!strcmp(cfg.console, "lin"));
	CHECK_EQ(parse("console=a-very-long-vm-name-x console= console=a,b"), 3);
	CHECK(reported("config: option 'console': 'a-very-long-vm-name-x' is not a vm name "
		       "(1-15 characters of A-Z a-z 0-9 _ -); the console starts in the monitor"));
	CHECK(reported("config: option 'console': 'a,b' is not a vm name "
		       "(1-15 characters of A-Z a-z 0-9 _ -); the console starts in the monitor"));
	CHECK_EQ(cfg.console[0], 0);
}

TEST(unknown_words)
{
	CHECK_EQ(parse("serial=ttyS0 quiet vm=a,image=a VM=b,image=b vm exit"), 5);
	CHECK(reported("config: unknown word 'serial=ttyS0'"));
	CHECK(reported("config: unknown word 'quiet'"));
	CHECK(reported("config: unknown word 'VM=b,image=b'"));
	CHECK(reported("config: unknown word 'vm'"));
	CHECK(reported("config: unknown word 'exit'"));
	CHECK_EQ(cfg.nr_vms, 1); /* not fatal */
}

TEST(module_text_with_comments)
{
	static const char text[] =
		"# utsuwa test configuration\n"
		"exit=qemu   # leave QEMU when done\n"
		"\n"
		"vm=linux,image=bzImage,mem=256M,cpus=2,pin=1+2\t# the big one\r\n"
		"  vm=tiny,image=tiny.bin,mode=real,expect=0\n"
		"#vm=off,image=off\n"
		"vm=c#omment,image=x\n"
		"slice=5#no space before the comment";

	nr_msgs = 0;
	calls = 0;
	config_init(&cfg);
	CHECK_EQ(config_parse(&cfg, text, sizeof(text) - 1, collect, &calls), 1);
	CHECK(reported("config: vm 'c': field 'image': missing; vm not started"));
	CHECK_EQ(cfg.on_done, DONE_QEMU_EXIT);
	CHECK_EQ(cfg.slice_ms, 5);
	CHECK_EQ(cfg.nr_vms, 2);
	CHECK_EQ(find("linux")->mem, 256ULL << 20);
	CHECK_EQ(find("linux")->pin, 0x6);
	CHECK_EQ(find("tiny")->mode, START_REAL16);
	CHECK(find("tiny")->expect_set);
	CHECK_EQ(find("tiny")->expect_code, 0);
	CHECK(!find("off"));
}

/* The examples of docs/config.md. */
TEST(docs_examples)
{
	static const char module[] =
		"# utsuwa: a Linux guest and a scanner with a CPU of its own\n"
		"exit=halt\n"
		"slice=5                        # shorter slices for the interactive guest\n"
		"\n"
		"vm=linux,image=bzImage,mem=512M,cpus=2\n"
		"vm=scan,image=scan.elf,mem=64M,pin=3      # CPU 3 runs nothing else\n"
		"vm=test1,image=t.elf,mode=prot,load=0x200000,arg=0x10,expect=stop\n";

	CHECK_EQ(parse("exit=qemu vm=hello,image=hello.elf vm=rm,image=rm.bin,mode=real,mem=2M,"
		       "expect=0"),
		 0);
	CHECK_EQ(cfg.nr_vms, 2);
	CHECK_EQ(cfg.on_done, DONE_QEMU_EXIT);
	CHECK_EQ(find("rm")->mem, 2 << 20);
	CHECK_EQ(find("rm")->load, 0x1000);

	CHECK_EQ(parse(module), 0);
	CHECK_EQ(cfg.nr_vms, 3);
	CHECK_EQ(cfg.slice_ms, 5);
	CHECK_EQ(find("linux")->cpus, 2);
	CHECK_EQ(find("linux")->pin, 0);
	CHECK_EQ(find("scan")->pin, 0x8);
	CHECK_EQ(find("test1")->mode, START_PROT32);
	CHECK_EQ(find("test1")->load, 0x200000);
	CHECK_EQ(find("test1")->mem, 16 << 20);
	CHECK_EQ(find("test1")->arg, 0x10);
	CHECK(find("test1")->expect_stop);
}

TEST(length_is_respected)
{
	static const char text[] = "vm=a,image=abc vm=b,image=b";

	config_init(&cfg);
	/* stop inside the first word: "vm=a,image=ab" */
	CHECK_EQ(config_parse(&cfg, text, 13, collect, &calls), 0);
	CHECK_EQ(cfg.nr_vms, 1);
	CHECK(!strcmp(cfg.vms[0].image, "ab"));
	/* NUL bytes are white space; a second call adds to the first */
	CHECK_EQ(config_parse(&cfg, "vm=c,image=c\0vm=d,image=d", 25, collect, &calls), 0);
	CHECK_EQ(cfg.nr_vms, 3);
	CHECK(find("c") && find("d"));
	/* no report function */
	CHECK_EQ(config_parse(&cfg, "bogus words", 11, NULL, NULL), 2);
}

TEST(long_input_is_cut_in_messages)
{
	static char text[200000];

	memset(text, 'x', sizeof(text) - 1);
	CHECK_EQ(parse(text), 1);
	CHECK(reported("config: unknown word 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...'"));
	memcpy(text, "vm=", 3);
	CHECK_EQ(parse(text), 2); /* a long name, no image */
	CHECK(strlen(msgs[0]) < 256);
	memcpy(text, "vm=a,image=", 11);
	CHECK_EQ(parse(text), 1);
	memcpy(text, "vm=a,image=a,pin=", 17);
	CHECK_EQ(parse(text), 1);
	memcpy(text, "vm=a,image=a,mem=1", 18);
	memset(text + 18, '0', 1000);
	CHECK_EQ(parse(text), 1);
	CHECK_EQ(cfg.nr_vms, 0);
}

TEST(reports_are_capped_but_counted)
{
	static char text[4001];

	for (int i = 0; i < 1000; i++)
		memcpy(text + i * 4, "bad ", 4);
	CHECK_EQ(parse(text), 1000);
	CHECK_EQ(calls, 65);
	CHECK(reported("config: too many problems; the rest are not shown"));
}

/* Random bytes, and random words from the grammar's own alphabet: nothing may
 * crash (ASan/UBSan watch), every VM kept must be valid. */
static void check_invariants(void)
{
	CHECK(cfg.nr_vms <= CONFIG_MAX_VMS);
	CHECK(cfg.slice_ms >= 1 && cfg.slice_ms <= 1000);
	for (unsigned i = 0; i < cfg.nr_vms && i < CONFIG_MAX_VMS; i++) {
		const struct vm_config *v = &cfg.vms[i];

		CHECK(memchr(v->name, 0, sizeof(v->name)) && v->name[0]);
		CHECK(memchr(v->image, 0, sizeof(v->image)) && v->image[0]);
		CHECK(v->mem >= (2 << 20) && v->mem % (2 << 20) == 0);
		CHECK(v->cpus >= 1 && v->cpus <= VM_MAX_VCPUS);
		CHECK(v->load < v->mem);
		CHECK(v->mode != START_REAL16 || v->load < 0x10000);
		for (unsigned j = 0; j < i; j++) {
			CHECK(strcmp(v->name, cfg.vms[j].name));
			CHECK(!(v->pin & cfg.vms[j].pin));
		}
	}
}

static unsigned rnd(unsigned *seed, unsigned n)
{
	*seed = *seed * 1103515245 + 12345;
	return (*seed >> 16) % n;
}

/* Whole vm= words with random fields and values, some good, some not. */
static size_t structured(char *buf, size_t size, unsigned *seed)
{
	static const char *names[] = { "a", "b", "c", "web", "db", "x-1", "", "toolongname0123456" };
	static const char *keys[] = { "image", "mode", "mem", "cpus", "pin", "load", "arg",
				      "expect", "bogus" };
	static const char *vals[] = { "img", "real", "prot", "long", "2M", "3M", "16M", "1G",
				      "0", "1", "4", "17", "1-3", "2+5", "63", "64", "0x1000",
				      "0x20000", "0x100000", "stop", "-1", "", "0x", "3-1" };
	size_t len = 0;
	unsigned words = 1 + rnd(seed, 20);

	for (unsigned w = 0; w < words; w++) {
		int n = snprintf(buf + len, size - len, "vm=%s,image=i",
				 names[rnd(seed, ARRAY_SIZE(names))]);

		if (n < 0 || (size_t)n >= size - len)
			break;
		len += (size_t)n;
		for (unsigned f = rnd(seed, 4); f; f--) {
			n = snprintf(buf + len, size - len, ",%s=%s",
				     keys[rnd(seed, ARRAY_SIZE(keys))],
				     vals[rnd(seed, ARRAY_SIZE(vals))]);
			if (n < 0 || (size_t)n >= size - len)
				return len;
			len += (size_t)n;
		}
		if (len < size)
			buf[len++] = rnd(seed, 2) ? ' ' : '\n';
	}
	return len;
}

TEST(fuzz)
{
	static const char *pieces[] = { "vm=", "image=", "mode=", "mem=", "cpus=", "pin=",
					"load=", "arg=", "expect=", "exit=", "slice=", ",", "=",
					"+", "-", " ", "\n", "#", "0x", "1", "2", "16", "2M",
					"real", "long", "stop", "a", "K", "G", "99999999999999999999",
					"\0", "\xff" };
	static char buf[8192];
	unsigned seed = 12345, accepted = 0, reports = 0;

	for (int iter = 0; iter < 20000; iter++) {
		size_t len;

		seed = seed * 1103515245 + 12345;
		if (iter % 3 == 2) {
			len = structured(buf, sizeof(buf), &seed);
		} else if (iter % 3 == 1) {
			len = (seed >> 8) % sizeof(buf);
			for (size_t i = 0; i < len; i++) {
				seed = seed * 1103515245 + 12345;
				buf[i] = (char)(seed >> 16);
			}
		} else {
			len = 0;
			while (len < 200 + (seed >> 20) % 2000) {
				const char *p;
				size_t n;

				seed = seed * 1103515245 + 12345;
				p = pieces[(seed >> 16) % ARRAY_SIZE(pieces)];
				n = *p ? strlen(p) : 1;
				if (len + n > sizeof(buf))
					break;
				memcpy(buf + len, p, n);
				len += n;
			}
		}
		/* parse from a heap copy of exactly len bytes so ASan sees any overrun */
		char *copy = malloc(len ? len : 1);
		memcpy(copy, buf, len);
		config_init(&cfg);
		calls = 0;
		nr_msgs = 0;
		int n = config_parse(&cfg, copy, len, collect, &calls);
		CHECK(n >= 0);
		CHECK(calls == (n > 64 ? 65 : n));
		check_invariants();
		accepted += cfg.nr_vms;
		reports += (unsigned)n;
		free(copy);
	}
	/* the grammar-shaped half does produce valid VMs and problems */
	printf("fuzz: %u VMs accepted, %u problems\n", accepted, reports);
	CHECK(accepted > 100);
	CHECK(reports > 10000);
}

TEST(linux_kernel_initrd_and_cmdline)
{
	const struct vm_config *v;

	CHECK_EQ(parse("vm=lin,image=vmlinuz,initrd=initrd.gz,mem=256M,"
		       "cmdline=\"console=ttyS0,115200 quiet # not a comment\" vm=b,image=x"), 0);
	v = find("lin");
	CHECK(v != NULL);
	if (v) {
		CHECK(!strcmp(v->image, "vmlinuz"));
		CHECK(!strcmp(v->initrd, "initrd.gz"));
		CHECK(!strcmp(v->cmdline, "console=ttyS0,115200 quiet # not a comment"));
	}
	CHECK(find("b") != NULL); /* the word after the quoted one still parses */
	/* Unquoted, cmdline= takes the rest of the word, commas included. */
	CHECK_EQ(parse("vm=l,image=k,cmdline=console=ttyS0,115200"), 0);
	v = find("l");
	CHECK(v && !strcmp(v->cmdline, "console=ttyS0,115200"));
	/* A bad initrd name is named as such. */
	CHECK_EQ(parse("vm=l,image=k,initrd="), 1);
	CHECK(reported("config: vm 'l': field 'initrd': empty; vm not started"));
	CHECK_EQ(cfg.nr_vms, 0);
}

int main(void)
{
	RUN(init_defaults);
	RUN(linux_kernel_initrd_and_cmdline);
	RUN(vm_defaults);
	RUN(every_key);
	RUN(modes_and_load_defaults);
	RUN(sizes);
	RUN(bad_sizes);
	RUN(modes_bad);
	RUN(cpus);
	RUN(cpu_lists);
	RUN(pins_are_exclusive);
	RUN(pci);
	RUN(disks);
	RUN(net);
	RUN(load_checks);
	RUN(arg_and_expect);
	RUN(on_crash);
	RUN(paging);
	RUN(exitport);
	RUN(tsc_khz);
	RUN(images);
	RUN(names);
	RUN(fields_unknown_repeated_empty);
	RUN(bad_vm_dropped_others_kept);
	RUN(duplicates);
	RUN(too_many_vms);
	RUN(globals);
	RUN(console_option);
	RUN(host_network);
	RUN(unknown_words);
	RUN(module_text_with_comments);
	RUN(docs_examples);
	RUN(length_is_respected);
	RUN(long_input_is_cut_in_messages);
	RUN(reports_are_capped_but_counted);
	RUN(api_options);
	RUN(fuzz);
	return unit_done();
}
