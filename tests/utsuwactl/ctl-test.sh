#!/bin/bash
# utsuwactl against a fake management API (tests/utsuwactl/fake-server.c),
# which records each request and answers from a routes file. Checks, for
# every command, what utsuwactl sent (method, path, Authorization, Host,
# Content-Length, body) and what it printed (tables, --json as it came), and
# the exit statuses of docs/utsuwactl.md: 0 for 2xx, 1 for 4xx (401, 404,
# 413 with the API's error shown), 4 for 5xx, 3 for a refused connection, a
# read timeout or an answer that is not HTTP, 2 for usage and a missing
# token (before any connection). The console is checked through a pipe
# (relay both ways, Ctrl-] leaves) and in a pseudo-terminal (script(1)):
# the terminal's modes are back after Ctrl-], after the server closes and
# after SIGTERM.
# Prints one PASS/FAIL line per check and "ctl: N passed, N failed".
#
# Usage: ctl-test.sh -c build/ctl-test/utsuwactl -s build/ctl-test/fake-server -o build/ctl-test
set -u
name=ctl
pass=0 fail=0
ctl= server= out=
while getopts c:s:o: opt; do
	case $opt in
	c) ctl=$(realpath "$OPTARG") ;;
	s) server=$(realpath "$OPTARG") ;;
	o) out=$OPTARG ;;
	*) echo "usage: $0 -c UTSUWACTL -s FAKE_SERVER -o DIR"; exit 2 ;;
	esac
done
if [ -z "$ctl" ] || [ -z "$server" ] || [ -z "$out" ]; then
	echo "usage: $0 -c UTSUWACTL -s FAKE_SERVER -o DIR"
	echo "$name: 0 passed, 1 failed"
	exit 2
fi
mkdir -p "$out" && out=$(realpath "$out")
work=$out/work log=$out/log
rm -rf "$work" "$log" && mkdir -p "$work" "$log"

ok() { echo "PASS $name: $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $name: $1"; fail=$((fail + 1)); }
# check WHAT COMMAND...: PASS if COMMAND succeeds; verdict WHAT: if what ran just before did.
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
verdict() { if [ $? = 0 ]; then ok "$1"; else bad "$1"; fi; }

token=s3cret-Tok3n
printf '%s\n' "$token" >"$work/token"
routes=$work/routes
: >"$routes"
"$server" -t "$token" -r "$routes" -d "$log" -p "$work/port" 2>"$out/server.err" &
server_pid=$!
server2_pid=
trap 'kill $server_pid $server2_pid 2>/dev/null; wait 2>/dev/null' EXIT
for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
port=$(cat "$work/port" 2>/dev/null)
if [ -z "$port" ]; then
	echo "FAIL $name: the fake server did not start"; cat "$out/server.err"
	echo "$name: 0 passed, 1 failed"; exit 1
fi
host=127.0.0.1:$port

# ASan: a leak is a failure too; keep its reports apart from the output.
export ASAN_OPTIONS=detect_leaks=1:exitcode=99 UBSAN_OPTIONS=halt_on_error=1:exitcode=99
export HOME=$work/home UTSUWA_HOST=$host
unset UTSUWA_TOKEN
mkdir -p "$HOME"

# run ARGS...: utsuwactl with the token file; stdout in $work/out, stderr in
# $work/err, the status in $rc.
run() {
	"$ctl" --token-file "$work/token" "$@" >"$work/out" 2>"$work/err" </dev/null
	rc=$?
}
requests() { wc -l <"$log/requests" 2>/dev/null || echo 0; }
last_req() { tail -n 1 "$log/requests"; }
head_has() { grep -qi "^$1\$" <(tr -d '\r' <"$log/last.head"); }
out_is() { diff -u <(printf '%s\n' "$1") "$work/out" >"$work/diff" || { cat "$work/diff"; false; }; }
route() { printf '%s\n' "$@" >"$routes"; }

# ---- host: fields for people, the JSON as it is ----
host_json='{"version":"0.11","backend":"svm","cpus":4,"free_mib":812,"uptime_s":37}'
route "GET /host 200 $host_json"
run host
check "host: exit 0" [ "$rc" = 0 ]
check "host: GET /host" [ "$(last_req)" = "GET /host" ]
check "host: Authorization: Bearer <token from --token-file>" head_has "Authorization: Bearer $token"
check "host: Host header is --host" head_has "Host: $host"
check "host: no body on a GET" [ ! -s "$log/last.body" ]
check "host: key: value lines" out_is "version: 0.11
backend: svm
cpus: 4
free_mib: 812
uptime_s: 37"
run --json host
check "host --json: the answer as it is" out_is "$host_json"

# ---- list and images: tables ----
vms_json='[{"name":"web","state":"running","vcpus":2,"mem_mib":256},{"name":"db-primary","state":"paused","vcpus":12,"mem_mib":4096},{"name":"odd","extra":[1,2]}]'
route "GET /vms 200 $vms_json"
run list
check "list: exit 0" [ "$rc" = 0 ]
check "list: a table (missing fields as -)" out_is "NAME        STATE    VCPUS  MEM_MIB
web         running      2      256
db-primary  paused      12     4096
odd         -            -        -"
run list --json
check "list --json (after the command): as it is" out_is "$vms_json"
route 'GET /vms 200 []'
run list
check "list: no VMs, the heading alone" out_is "NAME  STATE  VCPUS  MEM_MIB"

route 'GET /images 200 [{"name":"vmlinuz","bytes":8123456},{"name":"initrd.gz","bytes":1048576}]'
run images
check "images: a table" out_is "NAME         BYTES
vmlinuz    8123456
initrd.gz  1048576"

# ---- show: nested fields, escapes, a chunked answer ----
show_json='{"name":"web","state":"running","config":{"mem_mib":256,"cmdline":"console=ttyS0 \"q\"\u00e9\u001b[2J","disks":["gpt:data","ram"]},"vcpus":[{"cpu_time_ns":1200,"exits":{"hlt":7,"io":3}},{"cpu_time_ns":900,"exits":{}}],"io":{"net_rx":10}}'
route "GET /vms/web chunked 200 $show_json"
run show web
check "show: exit 0 (chunked answer)" [ "$rc" = 0 ]
check "show: GET /vms/web" [ "$(last_req)" = "GET /vms/web" ]
check "show: dotted and indexed keys, strings unescaped, control characters as ?" out_is \
"name: web
state: running
config.mem_mib: 256
config.cmdline: console=ttyS0 \"q\"é?[2J
config.disks: gpt:data, ram
vcpus[0].cpu_time_ns: 1200
vcpus[0].exits.hlt: 7
vcpus[0].exits.io: 3
vcpus[1].cpu_time_ns: 900
vcpus[1].exits: {}
io.net_rx: 10"
run --json show web
check "show --json: as it is" out_is "$show_json"
route 'GET /vms/a%20b%2Fc%3F 200 {"name":"a b/c?","state":"stopped"}'
run show 'a b/c?'
[ "$rc" = 0 ] && [ "$(last_req)" = "GET /vms/a%20b%2Fc%3F" ]
verdict "show: a name is percent-encoded in the path"

# ---- create: the spec as it is ----
printf '{"name":"vm2","vcpus":2,\n "mem_mib":128,"kernel":"vmlinuz"}\n' >"$work/spec.json"
route 'POST /vms 201 {"name":"vm2","state":"created"}'
run create "$work/spec.json"
[ "$rc" = 0 ] && out_is "vm2: created"
verdict "create: exit 0, name: state"
check "create: POST /vms" [ "$(last_req)" = "POST /vms" ]
check "create: the body is SPEC.json, byte for byte" cmp -s "$work/spec.json" "$log/last.body"
check "create: Content-Type: application/json" head_has "Content-Type: application/json"
check "create: Content-Length" head_has "Content-Length: $(stat -c %s "$work/spec.json")"
n=$(requests)
run create "$work/no-such.json"
[ "$rc" = 2 ] && [ "$(requests)" = "$n" ]
verdict "create: a spec that cannot be read: exit 2, nothing sent"

# ---- upload: the exact bytes, streamed ----
head -c 3145757 /dev/urandom >"$work/image"
route 'PUT /images/vmlinuz 201 {"name":"vmlinuz","bytes":3145757}'
run upload vmlinuz "$work/image"
check "upload: exit 0" [ "$rc" = 0 ]
check "upload: PUT /images/vmlinuz" [ "$(last_req)" = "PUT /images/vmlinuz" ]
check "upload: Content-Length is the file's size" head_has "Content-Length: 3145757"
check "upload: the server got the file's exact bytes" cmp -s "$work/image" "$log/last.body"
check "upload: name: bytes" out_is "vmlinuz: 3145757 bytes"
: >"$work/empty"
route 'PUT /images/empty 201 {"name":"empty","bytes":0}'
run upload empty "$work/empty"
[ "$rc" = 0 ] && head_has "Content-Length: 0"
verdict "upload: an empty file (Content-Length: 0)"
route 'PUT /images/big early 413 {"error":"image too large: 3145757 > 1048576 bytes"}'
run upload big "$work/image"
[ "$rc" = 1 ] && grep -q "image too large: 3145757 > 1048576 bytes" "$work/err"
verdict "upload: a 413 sent before the body was read: exit 1, the error as it is"
run upload x /dev/null
check "upload: not a regular file: exit 2" [ "$rc" = 2 ]

# ---- rmimage: 204 ----
route 'DELETE /images/vmlinuz 204'
run rmimage vmlinuz
[ "$rc" = 0 ] && [ "$(last_req)" = "DELETE /images/vmlinuz" ]
verdict "rmimage: DELETE /images/vmlinuz, 204: exit 0"
check "rmimage: says so" out_is "vmlinuz: deleted"
run --json rmimage vmlinuz
[ "$rc" = 0 ] && [ ! -s "$work/out" ]
verdict "rmimage --json: nothing to print"
route 'DELETE /images/initrd+v2.gz 200 {"name":"initrd+v2.gz","deleted":true}'
run rmimage initrd+v2.gz
[ "$rc" = 0 ] && [ "$(last_req)" = "DELETE /images/initrd+v2.gz" ] && out_is "initrd+v2.gz: deleted"
verdict "rmimage: a 200 with a body is fine too; '+' in a name goes as it is"

# ---- the lifecycle: POST /vms/NAME/<action> ----
for a in start:running pause:paused resume:running reset:running stop:stopped destroy:destroyed; do
	verb=${a%%:*} state=${a#*:}
	route "POST /vms/web/$verb 200 {\"name\":\"web\",\"state\":\"$state\"}"
	run "$verb" web
	if [ "$rc" = 0 ] && [ "$(last_req)" = "POST /vms/web/$verb" ] && head_has "Content-Length: 0" &&
		out_is "web: $state"; then
		ok "$verb: POST /vms/web/$verb with Content-Length: 0, prints web: $state"
	else
		bad "$verb: POST /vms/web/$verb (rc $rc, $(last_req))"
	fi
done

route 'POST /vms/web/stop 202 {"name":"web","state":"running","timeout_s":30}'
run stop web
[ "$rc" = 0 ] && out_is "web: running (accepted; the VM has not stopped yet)"
verdict "stop: a 202 (the power button pressed, the stop to come) is done too, and says so"

# ---- live migration: start, then the record until it is over ----
mig='"name":"web","to":"10.0.3.51:8081","rounds":2,"pages_sent":100,"bytes_sent":409600,"dirty_pages":3,"rate_kib_s":900,"downtime_ms":50,"total_ms":900'
route "POST /vms/web/migrate 202 {$mig,\"state\":\"connecting\",\"error\":\"\"}" \
	"GET /vms/web/migrate 200 {$mig,\"state\":\"done\",\"error\":\"\"}"
run migrate web --to 10.0.3.51:8081
[ "$rc" = 0 ] && [ "$(tail -n 1 "$work/out")" = "web: runs on 10.0.3.51:8081 now: 900 ms in all, 50 ms stopped, 2 rounds, 100 pages" ]
verdict "migrate: POST, then GET until done; prints the summary" || cat "$work/out" "$work/err"
grep -q '^POST /vms/web/migrate$' "$log/requests"
verdict "migrate: POST /vms/web/migrate was sent"
route "POST /vms/web/migrate 202 {$mig,\"state\":\"connecting\",\"error\":\"\"}" \
	"GET /vms/web/migrate 200 {$mig,\"state\":\"failed\",\"error\":\"the destination refused: not enough memory here\"}"
run migrate web --to 10.0.3.51:8081 --damage-frame 5 --wrong-key
[ "$rc" = 1 ] && [ "$(tail -n 1 "$work/out")" = "web: not migrated (the destination refused: not enough memory here); it runs here" ]
verdict "migrate: a failure: status 1 and the reason" || cat "$work/out" "$work/err"
route "POST /vms/web/migrate 202 {$mig,\"state\":\"connecting\",\"error\":\"\"}" \
	"GET /vms/web/migrate 200 {$mig,\"state\":\"in doubt\",\"error\":\"the destination reset the connection\"}"
run migrate web --to 10.0.3.51:8081
[ "$rc" = 5 ] && [ "$(tail -n 1 "$work/out")" = "web: in doubt (the destination reset the connection): it may run on 10.0.3.51:8081; it stays paused here: resume it here only if it does not run there, else destroy it" ]
verdict "migrate: in doubt (the whole VM went, unconfirmed): status 5, what to do" || cat "$work/out" "$work/err"
run migrate web
check "migrate without --to: status 2" [ "$rc" = 2 ]
route "DELETE /vms/web/migrate 200 {$mig,\"state\":\"cancelled\",\"error\":\"cancelled\"}"
run cancel web
[ "$rc" = 0 ] && [ "$(last_req)" = "DELETE /vms/web/migrate" ] && grep -qx 'state: cancelled' "$work/out"
verdict "cancel: DELETE /vms/web/migrate" || cat "$work/out" "$work/err"

# ---- CPU-feature pools: the hosts' baseline, defined on each ----
set_a=00800f12:80202001.78bfbff.0.0.0.41.2fd3fbff
route "GET /host 200 {\"cpus\":2,\"cpu_features\":\"$set_a\"}" \
	"PUT /pools/mig 200 {\"name\":\"mig\",\"features\":\"$set_a\"}"
: >"$log/requests"
run pool mig "$host" "$host"
[ "$rc" = 0 ] && [ "$(tr '\n' ' ' <"$log/requests")" = "GET /host GET /host PUT /pools/mig PUT /pools/mig " ]
verdict "pool: GET /host of each host, then PUT /pools/NAME on each" || { cat "$log/requests" "$work/err"; }
check "pool: the body is the baseline" [ "$(cat "$log/last.body")" = "{\"features\":\"$set_a\"}" ]
check "pool: prints it" out_is "mig: $set_a on 2 hosts"
route 'GET /host 200 {"cpus":2}'
: >"$log/requests"
run pool mig "$host"
[ "$rc" = 4 ] && [ "$(requests)" = 1 ] && grep -q "reports no CPU features" "$work/err"
verdict "pool: a host without cpu_features: exit 4, nothing defined" || cat "$work/err"
route "GET /host 200 {\"cpu_features\":\"$set_a\"}"
: >"$log/requests"
run pool mig "$host" 127.0.0.1:1
[ "$rc" = 3 ] && ! grep -q PUT "$log/requests"
verdict "pool: a host that cannot be reached: exit 3, nothing defined anywhere"
run pool 'a b' "$host"
check "pool: a bad NAME: exit 2" [ "$rc" = 2 ]
run pool mig
check "pool: no host: exit 2" [ "$rc" = 2 ]
route 'GET /pools 200 {"pools":[{"name":"mig","features":"00000f61:1.2.3.4.5.6.7"}]}'
run pools
check "pools: a table" out_is "NAME  FEATURES
mig   00000f61:1.2.3.4.5.6.7"

# ---- snapshot and restore ----
route 'POST /vms/web/snapshot 201 {"id":3}'
run snapshot web
[ "$rc" = 0 ] && out_is "web: snapshot 3"
verdict "snapshot: POST /vms/web/snapshot, prints the id"
run --json snapshot web
check "snapshot --json" out_is '{"id":3}'
route 'POST /vms/restore 201 {"name":"web-2","state":"paused"}'
run restore 3 'web-2'
[ "$rc" = 0 ] && [ "$(last_req)" = "POST /vms/restore" ]
verdict "restore: POST /vms/restore"
check "restore: the body" [ "$(cat "$log/last.body")" = '{"snapshot":3,"name":"web-2"}' ]
check "restore: prints name: state" out_is "web-2: paused"
run restore 3 'we"b\'
check "restore: the name is escaped in JSON" [ "$(cat "$log/last.body")" = '{"snapshot":3,"name":"we\"b\\"}' ]
n=$(requests)
run restore x web-3
check "restore: an ID that is not a number: exit 2" [ "$rc" = 2 ]
run restore 0 web-3
check "restore: snapshot 0 (they count from 1): exit 2" [ "$rc" = 2 ]
check "restore: none of these was sent" [ "$(requests)" = "$n" ]
route 'GET /snapshots 200 [{"id":3,"vm":"web","bytes":268500992},{"id":12,"vm":"db","bytes":4096}]'
run snapshots
check "snapshots: GET /snapshots, a table" out_is "ID  VM       BYTES
 3  web  268500992
12  db        4096"
route 'DELETE /snapshots/3 200 {"id":3,"deleted":true}'
run rmsnapshot 3
[ "$rc" = 0 ] && [ "$(last_req)" = "DELETE /snapshots/3" ]
verdict "rmsnapshot: DELETE /snapshots/3"
check "rmsnapshot: says so" out_is "snapshot 3: deleted"

# ---- the API refuses: 401, 404, 409; the server fails: 500 ----
route "GET /host 200 $host_json"
UTSUWA_TOKEN=wrong "$ctl" host >"$work/out" 2>"$work/err"; rc=$?
check "401 (UTSUWA_TOKEN, a wrong one): exit 1" [ "$rc" = 1 ]
check "401: the API's error as it is" grep -q "missing or wrong token" "$work/err"
check "UTSUWA_TOKEN is sent" head_has "Authorization: Bearer wrong"
UTSUWA_TOKEN=wrong "$ctl" --token-file "$work/token" host >"$work/out" 2>"$work/err"; rc=$?
[ "$rc" = 0 ] && head_has "Authorization: Bearer $token"
verdict "--token-file wins over UTSUWA_TOKEN"
printf '%s  \n' "$token" >"$HOME/.utsuwa-token"
"$ctl" host >"$work/out" 2>"$work/err"; rc=$?
[ "$rc" = 0 ] && head_has "Authorization: Bearer $token"
verdict "~/.utsuwa-token when nothing else says (trailing blanks dropped)"
rm -f "$HOME/.utsuwa-token"
route 'GET /vms/nosuch 404 {"error":"no such VM: nosuch"}'
run show nosuch
[ "$rc" = 1 ] && grep -q "no such VM: nosuch" "$work/err"
verdict "404: exit 1, the error as it is"
check "404: nothing on stdout" [ ! -s "$work/out" ]
route 'POST /vms/web/start 409 {"error":"web is running"}'
run start web
[ "$rc" = 1 ] && grep -q "web is running" "$work/err"
verdict "409: exit 1"
route 'GET /vms 500 {"error":"out of memory for the answer"}'
run list
[ "$rc" = 4 ] && grep -q "out of memory for the answer" "$work/err"
verdict "500: exit 4, the error as it is"
route 'GET /vms 503 <html>busy</html>'
run list
[ "$rc" = 4 ] && grep -q "busy" "$work/err"
verdict "503 without the API's error object: exit 4, the body shown"
route 'GET /vms 200 [{"name":"web",'
run list
check "200 that is not JSON: exit 4" [ "$rc" = 4 ]

# ---- transport: refused, timed out, not HTTP ----
n=$(requests)
run --host 127.0.0.1:1 host
[ "$rc" = 3 ] && grep -qi "cannot connect" "$work/err"
verdict "connection refused: exit 3"
run --host no-such-host.invalid:8080 host
check "unknown host: exit 3" [ "$rc" = 3 ]
route 'GET /host hang'
start=$(date +%s)
run --timeout 1 host
[ "$rc" = 3 ] && [ $(($(date +%s) - start)) -le 5 ]
verdict "no answer: exit 3 after --timeout 1"
route 'GET /host garbage'
run host
check "an answer that is not HTTP: exit 3" [ "$rc" = 3 ]

# ---- usage, and a missing token, before any connection ----
n=$(requests)
"$ctl" >"$work/out" 2>"$work/err"; rc=$?
check "no command: exit 2" [ "$rc" = 2 ]
run frobnicate
check "an unknown command: exit 2" [ "$rc" = 2 ]
run show
check "a missing argument: exit 2" [ "$rc" = 2 ]
run start a b
check "an extra argument: exit 2" [ "$rc" = 2 ]
run --timeout 0 host
check "a bad --timeout: exit 2" [ "$rc" = 2 ]
"$ctl" host >"$work/out" 2>"$work/err"; rc=$?
[ "$rc" = 2 ] && grep -q "no token" "$work/err"
verdict "no token anywhere: exit 2"
"$ctl" --token-file "$work/nope" host >"$work/out" 2>"$work/err"; rc=$?
check "a token file that cannot be read: exit 2" [ "$rc" = 2 ]
check "none of these connected" [ "$(requests)" = "$n" ]
"$ctl" --help >"$work/out" 2>&1; rc=$?
[ "$rc" = 0 ] && grep -q "restore ID NEWNAME" "$work/out"
verdict "--help: exit 0, lists the commands"

# ---- console through a pipe ----
route 'GET /vms/web/console console'
{ printf 'hello'; sleep 0.5; } | "$ctl" --token-file "$work/token" console web >"$work/out" 2>"$work/err"; rc=$?
check "console: exit 0 when its input ends" [ "$rc" = 0 ]
head_has "Upgrade: utsuwa-console" && head_has "Connection: Upgrade"
verdict "console: asked for the upgrade"
check "console: the server got the input" [ "$(cat "$log/console.in")" = hello ]
grep -q "console of /vms/web/console" "$work/out" && grep -q HELLO "$work/out"
verdict "console: the VM's output, including the bytes sent with the 101"
{ printf 'ab\035cd'; sleep 1; } | timeout 10 "$ctl" --token-file "$work/token" console web >"$work/out" 2>"$work/err"; rc=$?
[ "$rc" = 0 ] && [ "$(cat "$log/console.in")" = ab ]
verdict "console: Ctrl-] leaves at once (exit 0), nothing after it is sent"
route 'GET /vms/web/console 404 {"error":"no such VM: web"}'
run console web
[ "$rc" = 1 ] && grep -q "no such VM: web" "$work/err"
verdict "console of a VM that is not there: exit 1"
route 'GET /vms/web/console 200 {}'
run console web
check "console: a 200 instead of 101: exit 4" [ "$rc" = 4 ]

# ---- console in a terminal: raw mode, and the modes restored ----
# script(1) gives an inner shell a pseudo-terminal; the keys come from a pipe
# into script. utsuwactl runs in the background of that shell with the
# terminal as its input, so that the shell can look at the terminal's modes
# while it is attached (stty.during) and signal it.
route 'GET /vms/web/console console'
# pty_run KEYS SECONDS [HOST] [WHILE]: KEYS typed 2 s after the start, then
# SECONDS more; WHILE runs in the inner shell once the terminal is raw (or
# after 5 s; $pid is utsuwactl's there).
pty_run() {
	rm -f "$work"/stty.* "$work/pty.rc"
	cat >"$work/pty.sh" <<EOF
stty -g >"$work/stty.before"
"$ctl" --host ${3:-$host} --token-file "$work/token" console web </dev/tty 2>"$work/pty.err" &
pid=\$!
# Raw mode comes once utsuwactl has connected: under load that can take
# more than a second, so look for up to 5 s.
for i in \$(seq 50); do
	stty -g >"$work/stty.during" </dev/tty
	cmp -s "$work/stty.before" "$work/stty.during" || break
	sleep 0.1
done
${4:-}
wait \$pid
echo "rc=\$?" >"$work/pty.rc"
stty -g >"$work/stty.after"
EOF
	{ sleep 2; printf '%s' "$1"; sleep "$2"; } | timeout 20 script -qec "bash $work/pty.sh" /dev/null \
		>"$work/pty.out" 2>&1
}
raw_during() { [ -s "$work/stty.during" ] && ! cmp -s "$work/stty.before" "$work/stty.during"; }

pty_run $'hi\035' 1
check "console in a terminal: Ctrl-] leaves, exit 0" grep -q "rc=0" "$work/pty.rc"
check "console in a terminal: raw mode while attached" raw_during
check "console in a terminal: the modes are back after Ctrl-]" cmp -s "$work/stty.before" "$work/stty.after"
check "console in a terminal: keys are sent raw (no newline needed, no echo)" [ "$(cat "$log/console.in")" = hi ]
check "console in a terminal: the escape is named" grep -q "Ctrl-] leaves" "$work/pty.err"

pty_run '' 2 "$host" 'kill -TERM $pid'
check "console in a terminal: SIGTERM ends it (status 143)" grep -q "rc=143" "$work/pty.rc"
check "console in a terminal: raw mode until SIGTERM" raw_during
check "console in a terminal: the modes are back after SIGTERM" cmp -s "$work/stty.before" "$work/stty.after"

# The server closes the console (as when the VM is destroyed): a second fake
# server, killed while utsuwactl is attached to it.
mkdir -p "$log/2"
"$server" -t "$token" -r "$routes" -d "$log/2" -p "$work/port2" 2>>"$out/server.err" &
server2_pid=$!
for _ in $(seq 50); do [ -s "$work/port2" ] && break; sleep 0.1; done
pty_run '' 2 "127.0.0.1:$(cat "$work/port2")" "kill $server2_pid"
check "console in a terminal: the server closing ends it, exit 0" grep -q "rc=0" "$work/pty.rc"
check "console in a terminal: says the host closed it" grep -q "closed web's console" "$work/pty.err"
check "console in a terminal: the modes are back after the server closed" cmp -s "$work/stty.before" "$work/stty.after"

echo "$name: $pass passed, $fail failed"
[ "$fail" = 0 ]
