/* config_format_vm: what it writes, config_parse reads back the same. */
#include "unit.h"
#include "hv/config_format.h"
#include <string.h>

static int problems;

static void count(void *ctx, const char *msg)
{
	problems++;
	fprintf(stderr, "config: %s\n", msg);
}

/* Parses word, formats the VM, parses that: both VMs equal. */
static void round_trip(const char *word)
{
	static struct hv_config a, b;
	char buf[1024];

	config_init(&a);
	config_init(&b);
	problems = 0;
	config_parse(&a, word, strlen(word), count, NULL);
	CHECK_EQ(problems, 0);
	CHECK_EQ(a.nr_vms, 1u);
	CHECK_EQ(config_format_vm(&a.vms[0], NULL, buf, sizeof(buf)), 0);
	config_parse(&b, buf, strlen(buf), count, NULL);
	CHECK_EQ(problems, 0);
	CHECK_EQ(b.nr_vms, 1u);
	CHECK(!memcmp(&a.vms[0], &b.vms[0], sizeof(a.vms[0])));
	if (memcmp(&a.vms[0], &b.vms[0], sizeof(a.vms[0])))
		fprintf(stderr, "  %s\n  -> %s\n", word, buf);
}

TEST(every_field_round_trips)
{
	round_trip("vm=a,image=basic-long.bin,mode=long,mem=16M,cpus=1");
	round_trip("vm=b,image=basic-real.bin,mode=real,mem=2M,cpus=3,arg=7,expect=0");
	round_trip("vm=c,image=x.bin,mode=prot,mem=64M,cpus=2,pin=1+3,load=0x200000,expect=stop");
	round_trip("vm=lin,image=vmlinuz,initrd=initrd.gz,mem=256M,cpus=2,expect=5,"
		   "cmdline=\"console=ttyS0 quiet utsuwa.loop\"");
	round_trip("vm=p,image=i,mode=long,mem=1G,cpus=16,pin=0-3+7,arg=0");
	round_trip("vm=r,image=i,mode=long,mem=16M,cpus=1,on_crash=reset");
	round_trip("vm=d,image=i,mode=long,mem=16M,cpus=1,disk=module:disk.img,disk=gpt:data,ro");
	round_trip("vm=n,image=i,net");
	round_trip("vm=n,image=i,net=mac=52:54:00:ab:cd:ef,disk=module:d");
	round_trip("vm=q,image=i,mode=long,mem=16M,cpus=1,on_crash=pause,expect=stop");
	round_trip("vm=s,image=i,mode=long,mem=16M,cpus=2,paging=shadow");
	round_trip("vm=x,image=i,mode=long,mem=16M,cpus=1,exitport=on");
	round_trip("vm=t,image=i,mode=long,mem=16M,cpus=1,tsc_khz=1000000");
	round_trip("vm=p,image=i,pci=00:05.0,pci=0a:1f.7");
	round_trip("vm=t,image=i,mode=real,mem=16M,cpus=1,paging=nested,on_crash=reset");
}

TEST(another_name_and_no_room)
{
	static struct hv_config a;
	char buf[256], tiny[20];

	config_init(&a);
	config_parse(&a, "vm=old,image=i.bin,mem=4M", 25, count, NULL);
	CHECK_EQ(config_format_vm(&a.vms[0], "new", buf, sizeof(buf)), 0);
	CHECK(!strncmp(buf, "vm=new,image=i.bin,", 19));
	CHECK_EQ(config_format_vm(&a.vms[0], NULL, tiny, sizeof(tiny)), -ENOSPC);
	CHECK_EQ(config_format_vm(&a.vms[0], NULL, tiny, 0), -ENOSPC);
}

int main(void)
{
	RUN(every_field_round_trips);
	RUN(another_name_and_no_room);
	return unit_done();
}
