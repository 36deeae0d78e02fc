/*
 * This host's CPU-feature pools (include/hv/cpu_features.h): a small table
 * under a lock, written by the boot configuration, the monitor and the API
 * (all on CPU 0), read when a VM is built (any CPU).
 */
#include "hv/cpu_features.h"
#include "hv/spinlock.h"
#include "lib/string.h"

static struct cpu_pool pools[CPU_POOLS_MAX];
static spinlock_t lock;

int cpu_pool_define(const char *name, const struct cpu_featureset *set)
{
	size_t n = strlen(name);
	int free_slot = -1;

	if (!cpu_pool_name_ok(name, n))
		return -EINVAL;
	spin_lock(&lock);
	for (int i = 0; i < CPU_POOLS_MAX; i++) {
		if (!strcmp(pools[i].name, name)) {
			pools[i].set = *set;
			spin_unlock(&lock);
			return 0;
		}
		if (!pools[i].name[0] && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0) {
		spin_unlock(&lock);
		return -ENOSPC;
	}
	strlcpy(pools[free_slot].name, name, sizeof(pools[free_slot].name));
	pools[free_slot].set = *set;
	spin_unlock(&lock);
	return 0;
}

int cpu_pool_get(const char *name, struct cpu_featureset *out)
{
	int ret = -ENOENT;

	spin_lock(&lock);
	for (int i = 0; i < CPU_POOLS_MAX; i++)
		if (pools[i].name[0] && !strcmp(pools[i].name, name)) {
			*out = pools[i].set;
			ret = 0;
			break;
		}
	spin_unlock(&lock);
	return ret;
}

bool cpu_pool_at(unsigned i, struct cpu_pool *out)
{
	bool used;

	if (i >= CPU_POOLS_MAX)
		return false;
	spin_lock(&lock);
	used = pools[i].name[0];
	if (used)
		*out = pools[i];
	spin_unlock(&lock);
	return used;
}
