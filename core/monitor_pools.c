/*
 * The monitor's CPU-feature pools (docs/migration.md, "CPU-feature pools"):
 * `pools` shows what a VM here sees and the pools defined, `pool NAME SET`
 * defines or replaces one.
 */
#include "core/monitor_cmds.h"
#include "hv/console.h"
#include "hv/cpu_features.h"
#include "hv/vm.h"
#include "lib/string.h"

/* "pool NAME: SET", then what it hides of this host's features, if any. */
static void show_pool(const char *name, const struct cpu_featureset *set,
		      const struct cpu_featureset *host)
{
	char text[CPU_FEATURESET_TEXT_MAX], names[160];

	cpu_featureset_format(set, text);
	kprintf("pool %s: %s\n", name, text);
	for (int i = 0; i < CPU_FEATURE_WORDS; i++) {
		const struct cpu_feature_word *fw = &cpu_feature_words[i];
		u32 hidden = host->w[i] & ~set->w[i];

		if (!hidden)
			continue;
		cpu_feature_list(names, sizeof(names), fw->leaf, fw->subleaf, fw->reg, hidden);
		kprintf("  hides CPUID.%xh.%u:%s %s\n", fw->leaf, fw->subleaf,
			"EAX\0EBX\0ECX\0EDX" + 4 * fw->reg, names);
	}
}

int monitor_cmd_pools(const struct monitor_args *a)
{
	struct cpu_featureset host;
	char text[CPU_FEATURESET_TEXT_MAX];
	struct cpu_pool p;

	(void)a;
	vm_host_features(&host);
	cpu_featureset_format(&host, text);
	kprintf("host: %s\n", text);
	for (unsigned i = 0; i < CPU_POOLS_MAX; i++)
		if (cpu_pool_at(i, &p))
			show_pool(p.name, &p.set, &host);
	return 0;
}

int monitor_cmd_pool(const struct monitor_args *a)
{
	const char *name = a->argv[1], *text = a->argv[2];
	struct cpu_featureset set, host;
	int err;

	if (!cpu_pool_name_ok(name, strlen(name))) {
		kprintf("pool: '%s' is not a name of 1 to %d characters of a-z A-Z 0-9 _ -\n", name,
			CPU_POOL_NAME_MAX - 1);
		return -EINVAL;
	}
	if (cpu_featureset_parse(text, strlen(text), &set)) {
		kprintf("pool: '%s' is not SIG:W0.W1.W2.W3.W4.W5.W6 (hex, as pools shows)\n", text);
		return -EINVAL;
	}
	err = cpu_pool_define(name, &set);
	if (err) {
		kprintf("pool: already %d pools, the most there can be\n", CPU_POOLS_MAX);
		return err;
	}
	vm_host_features(&host);
	show_pool(name, &set, &host);
	return 0;
}
