# ---- make fuzz, part three: the management API (tests/fuzz/fuzz_api.c) ----
# Adds fuzz-api as a prerequisite of mk/fuzz.mk's fuzz target: the HTTP
# side, token, JSON and routes over the host tests' fake hypervisor, for
# FUZZ_API_RUNS inputs (the README quotes the count). Seeds are requests
# written here with printf; tests/fuzz/fuzz_api.dict gives the words.

FUZZ_API_RUNS ?= 1000000
FUZZ_API_DIR := $(FUZZ_DIR)/api
FUZZ_API_SRCS := core/api_http.c core/api_routes.c core/api_auth.c core/api_json.c \
	core/image_store.c core/vmexit_names.c core/config.c core/cpu_features.c core/cpu_pool.c core/config_format.c \
	lib/format.c lib/string.c tests/unit/api_fakes.c
FUZZ_API_HDRS := core/api_http.h core/api_json.h core/api_auth.h core/api_host.h \
	tests/unit/api_fakes.h include/hv/api.h include/hv/image_store.h

.PHONY: fuzz-api
fuzz: fuzz-api
fuzz-build: $(FUZZ_DIR)/fuzz_api
fuzz-api: $(FUZZ_DIR)/fuzz_api $(FUZZ_API_DIR)/seeds/.done
	@mkdir -p $(FUZZ_API_DIR)/corpus
	cd $(FUZZ_API_DIR) && ../fuzz_api -runs=$(FUZZ_API_RUNS) -max_len=4096 \
		-dict=$(CURDIR)/tests/fuzz/fuzz_api.dict -print_final_stats=1 corpus seeds

$(FUZZ_DIR)/fuzz_api: tests/fuzz/fuzz_api.c $(FUZZ_API_SRCS) $(FUZZ_API_HDRS) | $(FUZZ_DIR)/.clang-ok
	@$(if $(Q),echo "  FUZZCC  $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -Itests/unit -o $@ tests/fuzz/fuzz_api.c $(FUZZ_API_SRCS)

# Each seed: a step byte 0x03 (feed the rest), then requests with the token.
FUZZ_API_AUTH := Host: h\r\nAuthorization: Bearer fuzz-token-0123456789\r\n
$(FUZZ_API_DIR)/seeds/.done: mk/fuzz_api.mk
	@rm -rf $(FUZZ_API_DIR)/seeds && mkdir -p $(FUZZ_API_DIR)/seeds
	printf '\003GET /host HTTP/1.1\r\n$(FUZZ_API_AUTH)\r\nGET /vms HTTP/1.1\r\n$(FUZZ_API_AUTH)\r\n' > $(FUZZ_API_DIR)/seeds/get
	printf '\003GET /vms/web HTTP/1.1\r\n$(FUZZ_API_AUTH)Content-Length: 2\r\n\r\n{}' > $(FUZZ_API_DIR)/seeds/vm
	printf '\003POST /vms HTTP/1.1\r\n$(FUZZ_API_AUTH)Content-Length: 162\r\n\r\n{"name":"a","image":"kernel","mem_mib":32,"cpus":2,"cmdline":"x y","disks":[{"source":"module:kernel","ro":true}],"net":{"mac":"02:00:00:00:00:01"},"start":false}' > $(FUZZ_API_DIR)/seeds/create
	printf '\003POST /vms/web/stop HTTP/1.1\r\n$(FUZZ_API_AUTH)Content-Length: 15\r\n\r\n{"timeout_s":1}\025\025\025\025' > $(FUZZ_API_DIR)/seeds/stop
	printf '\003PUT /images/k2 HTTP/1.1\r\n$(FUZZ_API_AUTH)Expect: 100-continue\r\nContent-Length: 5\r\n\r\nhelloDELETE /images/k2 HTTP/1.1\r\n$(FUZZ_API_AUTH)\r\n' > $(FUZZ_API_DIR)/seeds/image
	printf '\003POST /vms/web/snapshot HTTP/1.1\r\n$(FUZZ_API_AUTH)\r\nPOST /vms/restore HTTP/1.1\r\n$(FUZZ_API_AUTH)Content-Length: 29\r\n\r\n{"snapshot":1,"name":"copy"}\n' > $(FUZZ_API_DIR)/seeds/restore
	printf '\003GET /vms/web/console HTTP/1.1\r\n$(FUZZ_API_AUTH)Connection: Upgrade\r\nUpgrade: utsuwa-console\r\n\r\nls\r' > $(FUZZ_API_DIR)/seeds/console
	printf '\003POST /vms/web/pause HTTP/1.1\r\n$(FUZZ_API_AUTH)\r\nPOST /vms/web/resume HTTP/1.1\r\n$(FUZZ_API_AUTH)\r\nPOST /vms/web/destroy HTTP/1.1\r\n$(FUZZ_API_AUTH)Connection: close\r\n\r\n' > $(FUZZ_API_DIR)/seeds/actions
	@touch $@
