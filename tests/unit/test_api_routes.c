/*
 * The API's calls (core/api_routes.c) over the faked hypervisor: every
 * route, wrong methods (405) and paths (404), VM specs that try to add
 * configuration fields, the image store, stop's hard stop after its timeout.
 */
#include "unit.h"
#include "api_client.h"
#include "core/api_http.h"
#include "hv/hv.h"
#include "hv/image_store.h"
#include "hv/vm_lifecycle.h"

static void setup(void)
{
	conn_close();
	fake_reset();
	fake_module("kernel", 4096);
	fake_module("initrd.gz", 4096);
	fake_vm("web", VM_RUNNING, 2, 64);
	now = 1000;
}

static bool body_is(const char *want)
{
	const char *b = body();

	if (strcmp(b, want)) {
		fprintf(stderr, "  got:    %s  wanted: %s\n", b, want);
		return false;
	}
	return true;
}

TEST(host_and_list)
{
	setup();
	CHECK_EQ(request("GET", "/host", NULL), 200);
	CHECK(body_is("{\"version\":\"0.11.0\",\"backend\":\"svm\",\"cpus\":4,\"free_mib\":4096,"
		      "\"uptime_s\":42,\"vms\":1,\"api_last_request_tsc\":1234,"
		      "\"cpu_features\":\"00000f61:80202001.78bfbff.0.0.0.1.20100800\"}\n"));
	CHECK_EQ(request("GET", "/vms", NULL), 200);
	CHECK(body_is("[{\"name\":\"web\",\"state\":\"running\",\"vcpus\":2,\"mem_mib\":64}]\n"));
	CHECK_EQ(request("GET", "/vms", "{}"), 200);
	CHECK_EQ(request("GET", "/vms", "{\"x\":1}"), 400);
	CHECK(body_is("{\"error\":\"unknown field 'x'\"}\n"));
	CHECK_EQ(request("GET", "/vms/web", NULL), 200);
	CHECK(strstr(body(), "{\"name\":\"web\",\"state\":\"running\",\"vcpus\":2,\"mem_mib\":64,"
			     "\"config\":\"vm=web,image=kernel,mode=long,mem=64M,cpus=2,load=0x100000\","
			     "\"cpu_time_ms\":[2,4],"
			     "\"exits\":{\"none\":0,\"cpuid\":0,\"msr-read\":0,\"msr-write\":0,"
			     "\"io\":30,") == body());
	CHECK(strstr(body(), "\"irqs_injected\":0,\"unassigned_accesses\":0,\"dirty_pages\":7,"
			     "\"resets\":0,\"io\":{\"disks\":[],\"net\":null},\"console\":{\"output_bytes\":0,\"input_dropped\":0},"
			     "\"start_tsc\":0,\"first_entry_tsc\":0,\"guest_tsc\":5678,\"host_tsc_at_guest_tsc_0\":0}\n"));
	CHECK_EQ(request("GET", "/vms/nope", NULL), 404);
	CHECK(body_is("{\"error\":\"no vm 'nope'\"}\n"));
}

/* The I/O counters: each disk in disk= order, the NIC from the guest's side. */
TEST(vm_io_counters)
{
	struct vm *vm;

	setup();
	vm = vms[0];
	vm->cfg.nr_disks = 2;
	snprintf(vm->cfg.disks[0].spec, sizeof(vm->cfg.disks[0].spec), "module:root");
	snprintf(vm->cfg.disks[1].spec, sizeof(vm->cfg.disks[1].spec), "gpt:data");
	vm->cfg.disks[1].ro = true;
	vm->cfg.net = true;
	CHECK_EQ(request("GET", "/vms/web", NULL), 200);
	CHECK(strstr(body(), "\"io\":{\"disks\":["
			     "{\"disk\":\"module:root\",\"ro\":false,\"reads\":1,\"read_bytes\":2,"
			     "\"writes\":3,\"write_bytes\":4,\"flushes\":5,\"errors\":6,\"unsupported\":7},"
			     "{\"disk\":\"gpt:data\",\"ro\":true,\"reads\":11,\"read_bytes\":12,"
			     "\"writes\":13,\"write_bytes\":14,\"flushes\":15,\"errors\":16,\"unsupported\":17}],"
			     "\"net\":{\"tx_frames\":1,\"tx_bytes\":2,\"rx_frames\":3,\"rx_bytes\":4,"
			     "\"rx_dropped\":5,\"tx_refused\":6}},"));
}

TEST(paths_and_methods)
{
	static const struct {
		const char *method, *path;
		int status;
		const char *allow;
	} cases[] = {
		{ "GET", "/", 404, NULL },
		{ "GET", "/hosts", 404, NULL },
		{ "GET", "/host/", 404, NULL },
		{ "GET", "/vms/", 404, NULL },
		{ "GET", "//vms", 404, NULL },
		{ "GET", "/vms/web/", 404, NULL },
		{ "GET", "/vms/web/pause", 405, "Allow: POST\r\n" },
		{ "DELETE", "/vms", 405, "Allow: GET, POST\r\n" },
		{ "PUT", "/host", 405, "Allow: GET\r\n" },
		{ "POST", "/images/x", 405, "Allow: PUT, DELETE\r\n" },
		{ "GET", "/vms/restore", 404, NULL }, /* a VM called restore: none */
		{ "POST", "/vms/web/fly", 404, NULL },
		{ "GET", "/vms/0123456789abcdef", 400, NULL },
		{ "GET", "/vms/a.b", 400, NULL },
		{ "DELETE", "/images/a,b", 400, NULL },
		{ "DELETE", "/snapshots/x", 400, NULL },
		{ "DELETE", "/snapshots/0", 400, NULL },
		{ "DELETE", "/snapshots/123456789", 400, NULL },
	};
	char path[128];

	setup();
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		int st = request(cases[i].method, cases[i].path, NULL);

		if (st != cases[i].status)
			fprintf(stderr, "%s %s: %d\n", cases[i].method, cases[i].path, st);
		CHECK_EQ(st, cases[i].status);
		if (cases[i].allow)
			CHECK(sent_has(cases[i].allow));
		CHECK(strstr(body(), "{\"error\":\"") == body());
	}
	snprintf(path, sizeof(path), "/images/%0100d", 1);
	CHECK_EQ(request("DELETE", path, NULL), 400);
	CHECK_EQ(fake.pause + fake.destroy + fake.create, 0);
}

TEST(actions)
{
	struct vm *web;

	setup();
	web = vm_find("web");
	CHECK_EQ(request("POST", "/vms/web/pause", NULL), 200);
	CHECK(body_is("{\"name\":\"web\",\"state\":\"paused\"}\n"));
	CHECK_EQ(request("POST", "/vms/web/pause", ""), 409);
	CHECK(body_is("{\"error\":\"pause: vm web is paused, not running\"}\n"));
	CHECK_EQ(request("POST", "/vms/web/start", "{}"), 200); /* a paused VM starts */
	CHECK_EQ(web->state, VM_RUNNING);
	CHECK_EQ(request("POST", "/vms/web/start", NULL), 409);
	CHECK_EQ(request("POST", "/vms/web/resume", NULL), 409);
	CHECK_EQ(request("POST", "/vms/web/reset", NULL), 200);
	CHECK_EQ(fake.reset, 1);
	CHECK_EQ(request("POST", "/vms/web/reset", "{\"hard\":true}"), 400);
	CHECK_EQ(fake.reset, 1);
	CHECK_EQ(request("POST", "/vms/web/snapshot", NULL), 201);
	CHECK(body_is("{\"id\":1,\"vm\":\"web\"}\n"));
	CHECK_EQ(request("GET", "/snapshots", NULL), 200);
	CHECK(body_is("[{\"id\":1,\"vm\":\"web\",\"bytes\":1048576}]\n"));
	CHECK_EQ(request("POST", "/vms/restore", "{\"snapshot\":1,\"name\":\"copy\"}"), 201);
	CHECK(body_is("{\"name\":\"copy\",\"state\":\"running\"}\n"));
	CHECK_EQ(request("POST", "/vms/restore", "{\"snapshot\":1,\"name\":\"copy\"}"), 409);
	CHECK_EQ(request("POST", "/vms/restore", "{\"snapshot\":9,\"name\":\"other\"}"), 404);
	CHECK_EQ(request("POST", "/vms/restore", "{\"snapshot\":1}"), 400);
	CHECK(body_is("{\"error\":\"field 'name' is missing\"}\n"));
	CHECK_EQ(request("POST", "/vms/restore", "{\"snapshot\":0,\"name\":\"x\"}"), 400);
	CHECK_EQ(request("POST", "/vms/restore", "{\"snapshot\":1,\"name\":\"a,b\"}"), 400);
	CHECK_EQ(request("POST", "/vms/restore", "{\"snapshot\":\"1\",\"name\":\"x\"}"), 400);
	CHECK_EQ(fake.restore, 1); /* 404 and 400 before any restore */
	CHECK_EQ(request("DELETE", "/snapshots/1", NULL), 200);
	CHECK_EQ(request("DELETE", "/snapshots/7", NULL), 404);
	CHECK_EQ(request("POST", "/vms/copy/destroy", NULL), 200);
	CHECK(body_is("{\"name\":\"copy\",\"state\":\"destroyed\"}\n"));
	CHECK(vm_find("copy") == NULL);
	CHECK_EQ(request("POST", "/vms/copy/destroy", NULL), 404);
	conn_close();
}

/* stop: the power button, then a hard stop if it still runs at the timeout. */
TEST(stop)
{
	struct vm *web;

	setup();
	web = vm_find("web");
	CHECK_EQ(request("POST", "/vms/web/stop", "{\"timeout_s\":5}"), 202);
	CHECK(body_is("{\"name\":\"web\",\"state\":\"running\",\"timeout_s\":5}\n"));
	CHECK_EQ(fake.power, 1);
	api_routes_poll(100000); /* sets the deadline on its own clock */
	api_routes_poll(104999);
	CHECK_EQ(fake.end, 0);
	api_routes_poll(105000);
	CHECK_EQ(fake.end, 1);
	CHECK_EQ(web->state, VM_STOPPED);
	CHECK(strstr(fake_log, "api: vm web: still running 5 s after its power button; stopped"));
	api_routes_poll(200000);
	CHECK_EQ(fake.end, 1);
	/* A guest that powers off in time is left alone. */
	web->state = VM_RUNNING;
	CHECK_EQ(request("POST", "/vms/web/stop", NULL), 202);
	CHECK(strstr(body(), "\"timeout_s\":30"));
	api_routes_poll(300000);
	web->state = VM_ENDED;
	api_routes_poll(400000);
	CHECK_EQ(fake.end, 1);
	/* Destroyed before its deadline: forgotten. */
	web->state = VM_RUNNING;
	CHECK_EQ(request("POST", "/vms/web/stop", NULL), 202);
	api_routes_poll(500000);
	CHECK_EQ(request("POST", "/vms/web/destroy", NULL), 200);
	fake_vm("web", VM_RUNNING, 1, 16); /* another VM of that name */
	api_routes_poll(900000);
	CHECK_EQ(fake.end, 1);
	CHECK_EQ(request("POST", "/vms/web/stop", "{\"timeout_s\":3601}"), 400);
	CHECK_EQ(request("POST", "/vms/web/stop", "{\"timeout_s\":-1}"), 400);
	vm_find("web")->state = VM_PAUSED;
	CHECK_EQ(request("POST", "/vms/web/stop", NULL), 409);
	conn_close();
}

static int create(const char *json)
{
	return request("POST", "/vms", json);
}

TEST(create)
{
	setup();
	CHECK_EQ(create("{\"name\":\"lin\",\"image\":\"kernel\",\"initrd\":\"initrd.gz\","
			"\"cmdline\":\"console=ttyS0 quiet\",\"mem_mib\":256,\"cpus\":2,"
			"\"disks\":[{\"source\":\"module:initrd.gz\",\"ro\":true},"
			"{\"source\":\"gpt:data\"}],\"net\":true}"), 201);
	CHECK(!strcmp(fake.last_line, "vm=lin,image=kernel,mem=256M,cpus=2,initrd=initrd.gz,"
				      "disk=module:initrd.gz,ro,disk=gpt:data,net,"
				      "cmdline=\"console=ttyS0 quiet\""));
	CHECK(body_is("{\"name\":\"lin\",\"state\":\"running\",\"vcpus\":2,\"mem_mib\":256,"
		      "\"config\":\"vm=lin,image=kernel,mem=256M,cpus=2,initrd=initrd.gz,"
		      "disk=module:initrd.gz,ro,disk=gpt:data,net,cmdline=\\\"console=ttyS0 "
		      "quiet\\\"\"}\n"));
	CHECK_EQ(fake.last_cfg.nr_disks, 2);
	CHECK(fake.last_cfg.disks[0].ro && !fake.last_cfg.disks[1].ro);
	CHECK(!strcmp(fake.last_cfg.cmdline, "console=ttyS0 quiet"));
	CHECK_EQ(create("{\"name\":\"lin\",\"image\":\"kernel\"}"), 409);
	CHECK(body_is("{\"error\":\"create: a VM named 'lin' exists already\"}\n"));
	/* start: false: paused before its first instruction; start runs it. */
	CHECK_EQ(create("{\"name\":\"held\",\"image\":\"kernel\",\"start\":false,"
			"\"net\":{\"mac\":\"02:00:00:00:00:01\"}}"), 201);
	CHECK(strstr(body(), "\"state\":\"paused\""));
	CHECK(!strcmp(fake.last_line, "vm=held,image=kernel,mem=16M,cpus=1,net=mac=02:00:00:00:00:01"));
	CHECK_EQ(create("{\"name\":\"pl\",\"image\":\"kernel\",\"cpu\":\"pool:mig\"}"), 201);
	CHECK(!strcmp(fake.last_line, "vm=pl,image=kernel,mem=16M,cpus=1,cpu=pool:mig"));
	CHECK(!strcmp(fake.last_cfg.cpu_pool, "mig"));
	CHECK_EQ(create("{\"name\":\"ho\",\"image\":\"kernel\",\"cpu\":\"host\"}"), 201);
	CHECK(!strcmp(fake.last_line, "vm=ho,image=kernel,mem=16M,cpus=1"));
	CHECK_EQ(request("POST", "/vms/held/start", NULL), 200);
	CHECK_EQ(vm_find("held")->state, VM_RUNNING);
	CHECK_EQ(fake.create, 5);
}

struct refused {
	const char *json;
	int status;
	const char *error;
};

/* Specs that would add or change a configuration field, or are simply wrong:
 * refused with the field named, and nothing is created. */
TEST(create_refused)
{
	static const struct refused cases[] = {
		{ "{\"name\":\"a,image=evil\",\"image\":\"kernel\"}", 400,
		  "field 'name': a vm name is 1-15 characters of A-Z a-z 0-9 _ -" },
		{ "{\"name\":\"a b\",\"image\":\"kernel\"}", 400,
		  "field 'name': a vm name is 1-15 characters of A-Z a-z 0-9 _ -" },
		{ "{\"name\":\"\",\"image\":\"kernel\"}", 400,
		  "field 'name': a vm name is 1-15 characters of A-Z a-z 0-9 _ -" },
		{ "{\"name\":\"0123456789abcdef\",\"image\":\"kernel\"}", 400,
		  "field 'name': longer than 15 characters" },
		{ "{\"name\":\"a\",\"image\":\"kernel,mem=2G\"}", 400,
		  "field 'image': an image name is 1-63 characters of A-Z a-z 0-9 . _ + -" },
		{ "{\"name\":\"a\",\"image\":\"kernel#\"}", 400,
		  "field 'image': an image name is 1-63 characters of A-Z a-z 0-9 . _ + -" },
		{ "{\"name\":\"a\",\"image\":\"ker nel\"}", 400,
		  "field 'image': an image name is 1-63 characters of A-Z a-z 0-9 . _ + -" },
		{ "{\"name\":\"a\",\"image\":\"kernel\",\"initrd\":\"x=y\"}", 400,
		  "field 'initrd': an image name is 1-63 characters of A-Z a-z 0-9 . _ + -" },
		{ "{\"name\":\"a\",\"image\":\"nothere\"}", 400,
		  "field 'image': no boot module or stored image 'nothere'" },
		{ "{\"name\":\"a\",\"image\":\"kernel\",\"cmdline\":\"x\\\" vm=b,image=kernel\"}", 400,
		  "field 'cmdline': a double quote is not allowed" },
		{ "{\"name\":\"a\",\"image\":\"kernel\",\"cmdline\":\"x\\ny\"}", 400,
		  "field 'cmdline': a control or non-ASCII character" },
		{ "{\"name\":\"a\"}", 400, "field 'image' is missing" },
		{ "{\"image\":\"kernel\"}", 400, "field 'name' is missing" },
		{ "{\"name\":\"a\",\"image\":\"kernel\",\"pin\":\"1\"}", 400, "unknown field 'pin'" },
		{ "{\"name\":\"a\",\"image\":\"kernel\",\"name\":\"b\"}", 400,
		  "field 'name' is given twice" },
		{ "{\"name\":\"a\",\"image\":\"kernel\",\"mem_mib\":\"64\"}", 400,
		  "field 'mem_mib': expected a whole number" },
		{ "{\"name\":\"a\",\"image\":\"kernel\",\"mem_mib\":3}", 400,
		  "field 'mem_mib': 3 is not an even number of MiB from 2" },
		{ "{\"name\":\"a\",\"image\":\"kernel\",\"mem_mib\":0}", 400,
		  "field 'mem_mib': 0 is not an even number of MiB from 2" },
		{ "{\"name\":\"a\",\"image\":\"kernel\",\"mem_mib\":8192}", 507,
		  "field 'mem_mib': 8192 MiB asked, 4096 MiB free" },
		{ "{\"name\":\"a\",\"image\":\"kernel\",\"cpus\":0}", 400,
		  "field 'cpus': a VM has 1 to 16 vCPUs" },
		{ "{\"name\":\"a\",\"image\":\"kernel\",\"cpus\":17}", 400, "field 'cpus': more than 16" },
		{ "{\"name\":\"a\",\"image\":\"kernel\",\"cpu\":\"pool:a,mem=2G\"}", 400,
		  "field 'cpu': not host or pool:NAME (NAME: 1-15 characters of A-Z a-z 0-9 _ -)" },
		{ "{\"name\":\"a\",\"image\":\"kernel\",\"cpu\":\"pool:\"}", 400,
		  "field 'cpu': not host or pool:NAME (NAME: 1-15 characters of A-Z a-z 0-9 _ -)" },
		{ "{\"name\":\"a\",\"image\":\"kernel\",\"cpu\":\"epyc\"}", 400,
		  "field 'cpu': not host or pool:NAME (NAME: 1-15 characters of A-Z a-z 0-9 _ -)" },
		{ "{\"name\":\"a\",\"image\":\"kernel\",\"start\":\"yes\"}", 400,
		  "field 'start': expected true or false" },
		{ "{\"name\":\"a\",\"image\":\"kernel\",\"net\":\"mac=02:00:00:00:00:01\"}", 400,
		  "field 'net': expected true, false or an object" },
		{ "{\"name\":\"a\",\"image\":\"kernel\",\"net\":{\"mac\":\"02:00:00:00:00:01,cpus=9\"}}",
		  400, "field 'net': field 'mac': longer than 17 characters" },
		{ "{\"name\":\"a\",\"image\":\"kernel\",\"net\":{\"mac\":\"02-00-00-00-00-01\"}}", 400,
		  "field 'net': 'mac' is not xx:xx:xx:xx:xx:xx" },
		{ "{\"name\":\"a\",\"image\":\"kernel\",\"net\":{\"ip\":\"1\"}}", 400,
		  "field 'net': unknown field 'ip'" },
		{ "{\"name\":\"a\",\"image\":\"kernel\",\"disks\":[\"gpt:data\"]}", 400,
		  "field 'disks' [0]: expected a JSON object" },
		{ "{\"name\":\"a\",\"image\":\"kernel\",\"disks\":[{\"source\":\"gpt:data,ro\"}]}", 400,
		  "field 'disks' [0]: 'source': NAME is 1-56 characters of A-Z a-z 0-9 . _ + -" },
		{ "{\"name\":\"a\",\"image\":\"kernel\",\"disks\":[{\"source\":\"file:/etc/passwd\"}]}",
		  400, "field 'disks' [0]: 'source' is module:NAME or gpt:NAME" },
		{ "{\"name\":\"a\",\"image\":\"kernel\",\"disks\":[{\"ro\":true}]}", 400,
		  "field 'disks' [0]: field 'source' is missing" },
		{ "{\"name\":\"a\",\"image\":\"kernel\",\"disks\":[{\"source\":\"module:none\"}]}", 400,
		  "field 'disks' [0]: no boot module or stored image 'none'" },
		{ "{\"name\":\"a\",\"image\":\"kernel\",\"disks\":[{},{},{},{},{}]}", 400,
		  "field 'disks': more than 4 disks" },
		{ "[]", 400, "the body is not a JSON object" },
		{ "", 400, "field 'name' is missing" },
	};

	setup();
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		char want[256];
		int st = create(cases[i].json);

		snprintf(want, sizeof(want), "{\"error\":\"%s\"}\n", cases[i].error);
		if (st != cases[i].status)
			fprintf(stderr, "%u: %s -> %d\n", i, cases[i].json, st);
		CHECK_EQ(st, cases[i].status);
		CHECK(body_is(want));
	}
	CHECK_EQ(fake.create, 0);
	CHECK_EQ(nr_vms, 1);
}

/* A command line may hold commas, '=' and '#': they stay in it. */
TEST(create_cmdline_stays_whole)
{
	setup();
	CHECK_EQ(create("{\"name\":\"a\",\"image\":\"kernel\",\"cmdline\":\"x,mem=4G,cpus=8 "
			"#c vm=b,image=kernel\"}"), 201);
	CHECK(!strcmp(fake.last_cfg.cmdline, "x,mem=4G,cpus=8 #c vm=b,image=kernel"));
	CHECK_EQ(fake.last_cfg.mem, 16ULL << 20);
	CHECK_EQ(fake.last_cfg.cpus, 1);
	CHECK(vm_find("b") == NULL);
	CHECK_EQ(nr_vms, 2);
}

static void upload(const char *name, const char *data)
{
	char req[512];
	int n;

	conn_close();
	conn_open();
	n = snprintf(req, sizeof(req), "PUT /images/%s HTTP/1.1\r\nHost: h\r\n"
		     "Authorization: Bearer " TOKEN "\r\nContent-Length: %zu\r\n\r\n%s", name,
		     strlen(data), data);
	feed(req, (size_t)n);
}

TEST(images)
{
	const struct boot_module *m;

	setup();
	upload("vmlinuz-2", "KERNEL");
	CHECK_EQ(status_at(io.sent), 201);
	CHECK(body_is("{\"name\":\"vmlinuz-2\",\"bytes\":6}\n"));
	m = image_find(hv_boot_info(), "vmlinuz-2");
	CHECK(m && m->end - m->start == 6 && !memcmp((void *)(uintptr_t)m->start, "KERNEL", 6));
	CHECK(image_find(hv_boot_info(), "kernel") != NULL); /* boot modules first */
	CHECK_EQ(request("GET", "/images", NULL), 200);
	CHECK(body_is("[{\"name\":\"vmlinuz-2\",\"bytes\":6}]\n"));
	upload("vmlinuz-2", "AGAIN");
	CHECK_EQ(status_at(io.sent), 409);
	CHECK(io.closed);
	upload("kernel", "X");
	CHECK_EQ(status_at(io.sent), 409);
	CHECK(body_is("{\"error\":\"image 'kernel': a boot module has that name\"}\n"));
	upload("empty", "");
	CHECK_EQ(status_at(io.sent), 400);
	/* A VM made from it holds it. */
	CHECK_EQ(create("{\"name\":\"a\",\"image\":\"vmlinuz-2\"}"), 201);
	CHECK_EQ(request("DELETE", "/images/vmlinuz-2", NULL), 409);
	CHECK(body_is("{\"error\":\"image 'vmlinuz-2' is vm a's (destroy the VM first)\"}\n"));
	CHECK_EQ(request("POST", "/vms/a/destroy", NULL), 200);
	CHECK_EQ(request("DELETE", "/images/vmlinuz-2", NULL), 200);
	CHECK(image_find(hv_boot_info(), "vmlinuz-2") == NULL);
	CHECK_EQ(request("DELETE", "/images/vmlinuz-2", NULL), 404);
	CHECK_EQ(fake_pages_live, 0);
	/* An upload cut off: nothing stays. */
	conn_close();
	conn_open();
	feed_str("PUT /images/part HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer " TOKEN
		 "\r\nContent-Length: 10000\r\n\r\nabc");
	CHECK(fake_pages_live > 0);
	CHECK(image_find(hv_boot_info(), "part") == NULL); /* not visible until whole */
	conn_close();
	CHECK_EQ(fake_pages_live, 0);
	/* Not enough memory. */
	fake_free_pages = 1;
	upload("big", "0123456789012345678901234567890123456789");
	CHECK_EQ(status_at(io.sent), 201); /* one page is enough */
	CHECK_EQ(request("DELETE", "/images/big", NULL), 200);
	fake_free_pages = 0;
	upload("big", "x");
	CHECK_EQ(status_at(io.sent), 507);
	/* The store is full at IMAGE_STORE_SLOTS. */
	fake_free_pages = 1 << 20;
	for (int i = 0; i < IMAGE_STORE_SLOTS; i++) {
		char name[16];

		snprintf(name, sizeof(name), "i%d", i);
		upload(name, "x");
		CHECK_EQ(status_at(io.sent), 201);
	}
	upload("one-more", "x");
	CHECK_EQ(status_at(io.sent), 507);
	for (int i = 0; i < IMAGE_STORE_SLOTS; i++) {
		char path[32];

		snprintf(path, sizeof(path), "/images/i%d", i);
		CHECK_EQ(request("DELETE", path, NULL), 200);
	}
	CHECK_EQ(fake_pages_live, 0);
	conn_close();
}

/* Live migration's calls: start (202 and the status), the status, cancel. */
TEST(migrate)
{
	setup();
	CHECK_EQ(request("POST", "/vms/web/migrate", NULL), 400);
	CHECK(body_is("{\"error\":\"field 'to': required (\\\"IP:PORT\\\")\"}\n"));
	CHECK_EQ(request("POST", "/vms/web/migrate", "{\"to\":\"nowhere\"}"), 409);
	CHECK_EQ(request("POST", "/vms/web/migrate", "{\"to\":\"10.0.0.1:8081:9\"}"), 409);
	CHECK_EQ(request("POST", "/vms/nope/migrate", "{\"to\":\"10.0.0.1\"}"), 404);
	CHECK_EQ(request("GET", "/vms/web/migrate", NULL), 404);
	CHECK_EQ(request("POST", "/vms/web/migrate", "{\"to\":\"10.0.0.2:8081\",\"damage_frame\":5,\"wrong_key\":true}"),
		 202);
	CHECK(body_is("{\"name\":\"web\",\"to\":\"10.0.0.2:8081\",\"state\":\"connecting\","
		      "\"rounds\":1005,\"pages_sent\":0,\"bytes_sent\":0,\"dirty_pages\":0,"
		      "\"rate_kib_s\":0,\"downtime_ms\":0,\"total_ms\":0,\"error\":\"\"}\n"));
	CHECK_EQ(request("POST", "/vms/web/migrate", "{\"to\":\"10.0.0.2\"}"), 409);
	CHECK_EQ(request("GET", "/vms/web/migrate", NULL), 200);
	CHECK_EQ(request("DELETE", "/vms/web/migrate", NULL), 200);
	CHECK(strstr(body(), "\"state\":\"cancelled\"") != NULL);
	CHECK_EQ(request("DELETE", "/vms/web/migrate", NULL), 404);
	CHECK_EQ(request("PUT", "/vms/web/migrate", NULL), 405);
	conn_close();
}

/* CPU-feature pools: defined by PUT, listed by GET; a bad set, name or
 * field is refused and defines nothing. */
TEST(pools)
{
	setup();
	CHECK_EQ(request("GET", "/pools", NULL), 200);
	CHECK(body_is("{\"pools\":[]}\n"));
	CHECK_EQ(request("PUT", "/pools/mig", "{\"features\":\"f61:1.2.3.4.5.6.7\"}"), 200);
	CHECK(body_is("{\"name\":\"mig\",\"features\":\"00000f61:1.2.3.4.5.6.7\"}\n"));
	CHECK_EQ(request("PUT", "/pools/mig", "{\"features\":\"f61:1.2.3.4.5.6.8\"}"), 200);
	CHECK_EQ(request("GET", "/pools", NULL), 200);
	CHECK(body_is("{\"pools\":[{\"name\":\"mig\",\"features\":\"00000f61:1.2.3.4.5.6.8\"}]}\n"));
	CHECK_EQ(request("PUT", "/pools/mig", "{\"features\":\"f61:1.2.3\"}"), 400);
	CHECK(body_is("{\"error\":\"field 'features': not SIG:W0.W1.W2.W3.W4.W5.W6 in hex, as "
		      "GET /host's cpu_features\"}\n"));
	CHECK_EQ(request("PUT", "/pools/mig", "{}"), 400);
	CHECK(body_is("{\"error\":\"field 'features' is missing\"}\n"));
	CHECK_EQ(request("PUT", "/pools/mig", "{\"features\":1}"), 400);
	CHECK_EQ(request("PUT", "/pools/a.b", "{\"features\":\"f61:1.2.3.4.5.6.7\"}"), 400);
	CHECK(body_is("{\"error\":\"the pool name in the path is not 1-15 characters of A-Z a-z "
		      "0-9 _ -\"}\n"));
	CHECK_EQ(request("GET", "/pools", NULL), 200);
	CHECK(strstr(body(), "6.8\"}]}"));
	CHECK_EQ(request("DELETE", "/pools/mig", NULL), 405);
}

int main(void)
{
	api_set_token(TOKEN);
	RUN(host_and_list);
	RUN(vm_io_counters);
	RUN(paths_and_methods);
	RUN(actions);
	RUN(stop);
	RUN(create);
	RUN(create_refused);
	RUN(create_cmdline_stays_whole);
	RUN(images);
	RUN(migrate);
	RUN(pools);
	conn_close();
	fake_reset();
	return unit_done();
}
