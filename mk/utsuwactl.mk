# utsuwactl, the management API's command-line tool (docs/utsuwactl.md): a
# Linux program built with the host compiler by the default `make`.
# Included by the Makefile (BUILD, SETUP, Q) before mk/run.mk, whose test
# target takes CTL_TEST_BINS as prerequisites.
#
#   make               also builds build/utsuwactl
#   make test-ctl      tests/utsuwactl/ctl-test.sh against a fake API server,
#                      with utsuwactl built under ASan and UBSan (part of make test)

# The feature sets of CPU-feature pools are the hypervisor's own code
# (core/cpu_features.c, with its formatter), built here for Linux.
CTL_SRCS := $(wildcard tools/utsuwactl/*.c) core/cpu_features.c lib/format.c
CTL_HDRS := $(wildcard tools/utsuwactl/*.h) include/hv/cpu_features.h lib/format.h
# jsmn.h comes from Debian's libjsmn-dev (scripts/setup-deps.sh).
CTL_CFLAGS := -std=gnu11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter \
	-DHOST_TEST -Iinclude -I.
CTL_TEST_CFLAGS := -std=gnu11 -D_GNU_SOURCE -O1 -g -Wall -Wextra -Werror -Wno-unused-parameter \
	-DHOST_TEST -Iinclude -I. \
	-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

all: $(BUILD)/utsuwactl

$(BUILD)/utsuwactl: $(CTL_SRCS) $(CTL_HDRS) | $(SETUP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  HOSTCC  $@")
	$(Q)$(CC) $(CTL_CFLAGS) -o $@ $(CTL_SRCS)

$(BUILD)/ctl-test/utsuwactl: $(CTL_SRCS) $(CTL_HDRS) | $(SETUP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  HOSTCC  $@ (ASan, UBSan)")
	$(Q)$(CC) $(CTL_TEST_CFLAGS) -o $@ $(CTL_SRCS)

$(BUILD)/ctl-test/fake-server: tests/utsuwactl/fake-server.c | $(SETUP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  HOSTCC  $@")
	$(Q)$(CC) $(CTL_CFLAGS) -o $@ $<

# make test (mk/run.mk) builds CTL_TEST_BINS and runs CTL_TEST.
CTL_TEST_BINS := $(BUILD)/utsuwactl $(BUILD)/ctl-test/utsuwactl $(BUILD)/ctl-test/fake-server
CTL_TEST := bash tests/utsuwactl/ctl-test.sh -c $(BUILD)/ctl-test/utsuwactl \
	-s $(BUILD)/ctl-test/fake-server -o $(BUILD)/ctl-test

.PHONY: test-ctl
test-ctl: $(CTL_TEST_BINS)
	@$(CTL_TEST)
