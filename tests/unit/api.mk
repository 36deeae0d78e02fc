# The management API (docs/api.md): JSON, HTTP and the token, the routes;
# the hypervisor around them faked in tests/unit/api_fakes.c.
API_SRCS := core/api_http.c core/api_routes.c core/api_auth.c core/api_json.c \
	core/image_store.c core/vmexit_names.c core/config.c core/cpu_features.c core/cpu_pool.c core/config_format.c \
	lib/format.c lib/string.c tests/unit/api_fakes.c
API_HDRS := core/api_http.h core/api_json.h core/api_auth.h core/api_host.h \
	tests/unit/api_fakes.h tests/unit/api_client.h

UNIT_TESTS += test_api_json
test_api_json_SRCS := tests/unit/test_api_json.c core/api_json.c lib/format.c lib/string.c
$(BUILD)/unit/test_api_json: core/api_json.h

UNIT_TESTS += test_api_http
test_api_http_SRCS := tests/unit/test_api_http.c $(API_SRCS)
$(BUILD)/unit/test_api_http: $(API_HDRS)

UNIT_TESTS += test_api_routes
test_api_routes_SRCS := tests/unit/test_api_routes.c $(API_SRCS)
$(BUILD)/unit/test_api_routes: $(API_HDRS)
