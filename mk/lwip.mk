# lwIP, the hypervisor's TCP/IP stack (core/netstack.c, docs/platform.md "The
# hypervisor's own address"). Its source is Debian 12's `lwip` source package,
# fetched once by scripts/fetch-lwip.sh (apt-get source, checked) into
# build/lwip-src and never committed; the files below are compiled with the
# hypervisor's own flags and lib/lwip-port's options (lwipopts.h, arch/cc.h)
# and linked into build/utsuwa.elf. Included by the Makefile.
LWIP_SRC := $(BUILD)/lwip-src
LWIP_STAMP := $(LWIP_SRC)/.fetched
# The raw API (NO_SYS): IPv4 with ARP, ICMP, UDP, DHCP and TCP on Ethernet.
LWIP_FILES := core/def.c core/inet_chksum.c core/init.c core/ip.c core/mem.c core/memp.c \
	core/netif.c core/pbuf.c core/tcp.c core/tcp_in.c core/tcp_out.c core/timeouts.c \
	core/udp.c core/ipv4/dhcp.c core/ipv4/etharp.c core/ipv4/icmp.c core/ipv4/ip4.c \
	core/ipv4/ip4_addr.c core/ipv4/ip4_frag.c netif/ethernet.c
LWIP_OBJS := $(patsubst %.c,$(BUILD)/lwip/%.o,$(LWIP_FILES))
# -nostdinc: only the compiler's own headers (stdint.h, stddef.h) and
# lib/lwip-port/libc's shims of string.h and stdlib.h, nothing of glibc's.
# Expanded when a recipe runs, not when make reads this: on a fresh machine
# the compiler is installed (scripts/setup-deps.sh) only after that.
LWIP_INC = -nostdinc -isystem $(shell $(CC) -print-file-name=include) -Ilib/lwip-port/libc \
	-Ilib/lwip-port -I$(LWIP_SRC)/src/include
# The hypervisor's files that include lwIP's headers.
LWIP_USERS := $(BUILD)/hv/core/netstack.c.o $(BUILD)/hv/core/api_tcp.c.o \
	$(BUILD)/hv/core/migrate.c.o $(BUILD)/hv/core/migrate_send.c.o $(BUILD)/hv/core/migrate_recv.c.o

.PHONY: lwip-src
lwip-src: $(LWIP_STAMP)
# Made once; scripts/fetch-lwip.sh does nothing while the stamp exists.
$(LWIP_STAMP): | $(SETUP)
	sh scripts/fetch-lwip.sh $(BUILD)

$(LWIP_OBJS): $(BUILD)/lwip/%.o: $(LWIP_STAMP) mk/lwip.mk
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      lwip/$*.c")
	$(Q)$(CC) $(HV_CFLAGS) $(LWIP_INC) -MMD -MP -c $(LWIP_SRC)/src/$*.c -o $@

# (HV_CFLAGS is simply expanded: a += here would expand LWIP_INC now.)
HV_CFLAGS_BASE := $(HV_CFLAGS)
$(LWIP_USERS): HV_CFLAGS = $(HV_CFLAGS_BASE) $(LWIP_INC)
$(LWIP_USERS): | $(LWIP_STAMP)

-include $(LWIP_OBJS:.o=.d)
