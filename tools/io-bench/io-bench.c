/*
 * io-bench, for the Linux guest's initramfs (scripts/build-linux-guest.sh):
 * the guest side of `make bench-io` (bench/io.sh, bench/README.md "I/O") and
 * `make bench-passthru` (bench/passthru.sh). Each mode times its requests
 * with RDTSC; under QEMU -icount shift=0 a TSC tick is one instruction of the
 * whole emulated machine, so the figures are instructions: the guest's, the
 * hypervisor's and (under KVM) the L1's.
 *
 *   io-bench randread DEV COUNT   4 KiB O_DIRECT preads at random 4 KiB-aligned
 *                                 offsets, one at a time (queue depth 1)
 *   io-bench seqread DEV MIB      1 MiB O_DIRECT preads from offset 0 on,
 *                                 wrapping at the device's end
 *   io-bench ping PEER COUNT      64-byte UDP round trips to PEER's server
 *   io-bench stream PEER MIB      MIB MiB over TCP to PEER's server, until it
 *                                 acknowledges the end
 *   io-bench serve                the server: UDP echo (port 7007) and a TCP
 *                                 sink (port 7008) until a UDP "quit" arrives
 *   io-bench quit PEER            sends "quit" to PEER's server
 *   io-bench wait PEER SECONDS    returns once PEER's server answers a round trip
 *   io-bench no-coalesce IF       turns IF's interrupt moderation off (ethtool's
 *                                 rx-usecs 0): no device timer between a
 *                                 frame and its interrupt
 *   io-bench netns-serve IF ADDR  the server in a network namespace of its own,
 *                                 with the interface IF moved there and given
 *                                 ADDR/24: one kernel then holds both ends, and
 *                                 their traffic crosses the NICs (make
 *                                 bench-passthru's native side, bench/passthru.sh)
 *
 * Each measuring mode prints one line,
 *   io-bench: <mode> per=<N> ...
 * per is the median of the samples for randread and ping (instructions per
 * request or round trip; p10= on the same line is their 10th percentile) and
 * the total over the MiB moved for seqread and stream (instructions per
 * MiB). Warm-up requests come first and are not
 * counted. Offsets come from a fixed-seed generator: every run reads the
 * same blocks.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/fs.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define UDP_PORT 7007
#define TCP_PORT 7008
#define BLOCK 4096
#define MIB (1024 * 1024)
#define CHUNK (64 * 1024)
#define WARMUP 16

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	/* LFENCE before and after: the read neither moves ahead of the work
	 * before it nor lets the work after it start early. */
	__asm__ volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi) :: "memory");
	return ((uint64_t)hi << 32) | lo;
}

static void die(const char *what)
{
	printf("io-bench: error %s: %s\n", what, strerror(errno));
	fflush(stdout);
	exit(1);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Prints "io-bench: MODE per=<median> n=<n> min=<min> max=<max> mean=<mean>
 * p10=<10th percentile>": the low percentile is the cost of a request that
 * waited for nothing but instructions (make bench-passthru: a device timer or
 * QEMU's I/O thread can delay some requests, and under -icount sleep=off an
 * idle CPU's wait for the next timer counts as ticks). */
static void report_samples(const char *mode, uint64_t *s, unsigned n)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < n; i++)
		sum += s[i];
	qsort(s, n, sizeof(*s), cmp_u64);
	printf("io-bench: %s per=%llu n=%u min=%llu max=%llu mean=%llu p10=%llu\n", mode,
	       (unsigned long long)s[n / 2], n, (unsigned long long)s[0],
	       (unsigned long long)s[n - 1], (unsigned long long)(sum / n),
	       (unsigned long long)s[n / 10]);
}

static uint64_t xorshift(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *state = x;
}

static int open_disk(const char *dev, uint64_t *size, void **buf, size_t len)
{
	int fd = open(dev, O_RDONLY | O_DIRECT);

	if (fd < 0)
		die(dev);
	/* A block device's size; a regular file's for a try on the host. */
	if (ioctl(fd, BLKGETSIZE64, size) < 0) {
		struct stat st;

		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
			die("BLKGETSIZE64");
		*size = (uint64_t)st.st_size;
	}
	if (*size < len)
		die("disk smaller than one request");
	/* O_DIRECT needs an aligned buffer; touch it so no page fault is timed. */
	if (posix_memalign(buf, BLOCK, len))
		die("posix_memalign");
	memset(*buf, 0, len);
	return fd;
}

static void full_pread(int fd, void *buf, size_t len, uint64_t off)
{
	ssize_t got = pread(fd, buf, len, (off_t)off);

	if (got != (ssize_t)len) {
		if (got >= 0)
			errno = EIO;
		die("pread");
	}
}

static int randread(const char *dev, unsigned count)
{
	uint64_t size, seed = 0x9e3779b97f4a7c15ull, *s = calloc(count, sizeof(*s));
	void *buf;
	int fd = open_disk(dev, &size, &buf, BLOCK);

	if (!s)
		die("calloc");
	for (unsigned i = 0; i < WARMUP + count; i++) {
		uint64_t off = xorshift(&seed) % (size / BLOCK) * BLOCK;
		uint64_t t0 = rdtsc();

		full_pread(fd, buf, BLOCK, off);
		if (i >= WARMUP)
			s[i - WARMUP] = rdtsc() - t0;
	}
	report_samples("randread", s, count);
	close(fd);
	return 0;
}

static int seqread(const char *dev, unsigned mib)
{
	uint64_t size, off = 0, t0, t;
	void *buf;
	int fd = open_disk(dev, &size, &buf, MIB);
	uint64_t end = size / MIB * MIB;

	for (unsigned i = 0; i < 4; i++)
		full_pread(fd, buf, MIB, (uint64_t)i * MIB % end);
	t0 = rdtsc();
	for (unsigned i = 0; i < mib; i++) {
		full_pread(fd, buf, MIB, off);
		off = (off + MIB) % end;
	}
	t = rdtsc() - t0;
	printf("io-bench: seqread per=%llu mib=%u total=%llu\n", (unsigned long long)(t / mib), mib,
	       (unsigned long long)t);
	close(fd);
	return 0;
}

static struct sockaddr_in peer_addr(const char *ip, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };

	if (inet_pton(AF_INET, ip, &a.sin_addr) != 1) {
		printf("io-bench: error bad address %s\n", ip);
		exit(2);
	}
	return a;
}

/* A UDP socket connected to PEER's echo port, receives timing out after ms. */
static int udp_to(const char *peer, int ms)
{
	struct sockaddr_in a = peer_addr(peer, UDP_PORT);
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = ms % 1000 * 1000 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0)
		die("socket");
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("connect udp");
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* One round trip: 1 when the echo came back. */
static int round_trip(int fd, char *msg, size_t len)
{
	char back[256];

	if (send(fd, msg, len, 0) != (ssize_t)len)
		return 0;
	return recv(fd, back, sizeof(back), 0) == (ssize_t)len;
}

static uint64_t now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

/* Round trips until one comes back or SECONDS pass (the peer may still be
 * booting: no answer, or at once an ICMP port unreachable). */
static int wait_peer(const char *peer, unsigned seconds)
{
	char msg[64] = "hello";
	uint64_t start = now_s();
	unsigned tries = 0;
	int fd = udp_to(peer, 1000);

	while (now_s() - start < seconds) {
		uint64_t t = now_s();

		tries++;
		if (round_trip(fd, msg, sizeof(msg))) {
			printf("io-bench: peer %s up after %u tries, %llu s\n", peer, tries,
			       (unsigned long long)(now_s() - start));
			close(fd);
			return 0;
		}
		if (now_s() == t)
			sleep(1);
	}
	printf("io-bench: error peer %s did not answer in %u s\n", peer, seconds);
	return 1;
}

static int ping(const char *peer, unsigned count)
{
	char msg[64] = "ping";
	uint64_t *s = calloc(count, sizeof(*s));
	int fd = udp_to(peer, 5000);

	if (!s)
		die("calloc");
	for (unsigned i = 0; i < WARMUP + count; i++) {
		uint64_t t0 = rdtsc();

		if (!round_trip(fd, msg, sizeof(msg)))
			die("ping: no echo");
		if (i >= WARMUP)
			s[i - WARMUP] = rdtsc() - t0;
	}
	report_samples("ping", s, count);
	close(fd);
	return 0;
}

static void send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n <= 0)
			die("stream write");
		buf += n;
		len -= (size_t)n;
	}
}

static int stream(const char *peer, unsigned mib)
{
	struct sockaddr_in a = peer_addr(peer, TCP_PORT);
	char *buf = malloc(CHUNK), ack;
	uint64_t t0, t;
	int fd = -1;

	if (!buf)
		die("malloc");
	memset(buf, 0x5a, CHUNK);
	for (int i = 0; i < 60; i++) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0)
			die("socket");
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
			break;
		close(fd);
		fd = -1;
		sleep(1);
	}
	if (fd < 0)
		die("connect tcp");
	/* 1 MiB untimed first: the connection leaves slow start. */
	for (unsigned i = 0; i < MIB / CHUNK; i++)
		send_all(fd, buf, CHUNK);
	t0 = rdtsc();
	for (unsigned i = 0; i < mib * (MIB / CHUNK); i++)
		send_all(fd, buf, CHUNK);
	/* The end counts once the server has read everything and said so. */
	if (shutdown(fd, SHUT_WR) < 0)
		die("shutdown");
	if (read(fd, &ack, 1) != 1)
		die("stream: no acknowledgement");
	t = rdtsc() - t0;
	printf("io-bench: stream per=%llu mib=%u total=%llu\n", (unsigned long long)(t / mib), mib,
	       (unsigned long long)t);
	close(fd);
	return 0;
}

static int quit(const char *peer)
{
	int fd = udp_to(peer, 100);

	for (int i = 0; i < 3; i++)
		send(fd, "quit", 4, 0);
	close(fd);
	return 0;
}

/* UDP echo and a TCP sink in one poll loop, one connection at a time. */
static int serve(void)
{
	struct sockaddr_in u = { .sin_family = AF_INET, .sin_port = htons(UDP_PORT) };
	struct sockaddr_in t = { .sin_family = AF_INET, .sin_port = htons(TCP_PORT) };
	int one = 1, ufd = socket(AF_INET, SOCK_DGRAM, 0), lfd = socket(AF_INET, SOCK_STREAM, 0);
	int cfd = -1;
	unsigned long long bytes = 0;
	char *buf = malloc(CHUNK);

	if (ufd < 0 || lfd < 0 || !buf)
		die("serve: socket");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(ufd, (struct sockaddr *)&u, sizeof(u)) < 0 || bind(lfd, (struct sockaddr *)&t, sizeof(t)) < 0)
		die("serve: bind");
	if (listen(lfd, 4) < 0)
		die("serve: listen");
	printf("io-bench: serving udp %d tcp %d\n", UDP_PORT, TCP_PORT);
	fflush(stdout);
	for (;;) {
		struct pollfd p[3] = { { ufd, POLLIN, 0 }, { lfd, POLLIN, 0 }, { cfd, POLLIN, 0 } };

		if (poll(p, cfd >= 0 ? 3 : 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("serve: poll");
		}
		if (p[0].revents & POLLIN) {
			struct sockaddr_in from;
			socklen_t flen = sizeof(from);
			ssize_t n = recvfrom(ufd, buf, CHUNK, 0, (struct sockaddr *)&from, &flen);

			if (n == 4 && !memcmp(buf, "quit", 4))
				break;
			if (n > 0)
				sendto(ufd, buf, (size_t)n, 0, (struct sockaddr *)&from, flen);
		}
		if ((p[1].revents & POLLIN) && cfd < 0) {
			cfd = accept(lfd, NULL, NULL);
			bytes = 0;
		}
		if (cfd >= 0 && (p[2].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t n = read(cfd, buf, CHUNK);

			if (n > 0) {
				bytes += (unsigned long long)n;
			} else {
				/* The sender's end: acknowledge with one byte. */
				if (write(cfd, "k", 1) != 1)
					printf("io-bench: serve: ack failed\n");
				close(cfd);
				cfd = -1;
				printf("io-bench: served a stream of %llu bytes\n", bytes);
				fflush(stdout);
			}
		}
	}
	printf("io-bench: serve done\n");
	return 0;
}

/* ETHTOOL_SCOALESCE with rx-usecs 0, what `ethtool -C IF rx-usecs 0` does
 * (busybox has no ethtool). Linux's e1000e then writes 0 to ITR and EITR
 * instead of adapting them to the traffic (its default, which may ask for
 * 4,000 interrupts a second in a stream): under -icount sleep=off a frame
 * waiting for that timer shows as ticks of an idle CPU (QEMU moves its clock
 * to the timer's deadline), not as instructions. QEMU 7.2's e1000e still
 * keeps 128 us between two interrupts of a vector whatever is written (its
 * E1000E_MIN_XITR). A driver without the setting is left as it is, and
 * said so: not an error. */
static int no_coalesce(const char *ifname)
{
	struct ethtool_coalesce ec = { .cmd = ETHTOOL_GCOALESCE };
	struct ifreq ifr = { 0 };
	unsigned old;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0)
		die("socket");
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ec;
	if (ioctl(fd, SIOCETHTOOL, &ifr) == 0) {
		old = ec.rx_coalesce_usecs;
		ec.cmd = ETHTOOL_SCOALESCE;
		ec.rx_coalesce_usecs = 0;
		if (ioctl(fd, SIOCETHTOOL, &ifr) == 0) {
			printf("io-bench: %s rx-usecs %u -> 0 (interrupt moderation off)\n", ifname, old);
			close(fd);
			return 0;
		}
	}
	printf("io-bench: %s: interrupt moderation left as it is (%s)\n", ifname, strerror(errno));
	close(fd);
	return 0;
}

/* Moves the interface IFNAME into the network namespace of process PID:
 * RTM_NEWLINK with IFLA_NET_NS_PID (what `ip link set IF netns PID` sends;
 * busybox's ip cannot), answered by an NLMSG_ERROR whose error is 0. */
static void move_link(const char *ifname, pid_t pid)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
		struct rtattr rta;
		uint32_t pid;
	} req = {
		.nh = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_NEWLINK,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK, .nlmsg_seq = 1 },
		.ifi = { .ifi_family = AF_UNSPEC, .ifi_index = (int)if_nametoindex(ifname) },
		.rta = { .rta_len = RTA_LENGTH(sizeof(uint32_t)), .rta_type = IFLA_NET_NS_PID },
		.pid = (uint32_t)pid,
	};
	char ans[512];
	struct nlmsghdr *nh = (struct nlmsghdr *)ans;
	int fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	ssize_t n;

	if (!req.ifi.ifi_index)
		die(ifname);
	if (fd < 0)
		die("netlink socket");
	if (send(fd, &req, sizeof(req), 0) != (ssize_t)sizeof(req))
		die("netlink send");
	n = recv(fd, ans, sizeof(ans), 0);
	if (n < (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr)) || nh->nlmsg_type != NLMSG_ERROR)
		die("netlink answer");
	errno = -((struct nlmsgerr *)NLMSG_DATA(nh))->error;
	if (errno)
		die("RTM_NEWLINK IFLA_NET_NS_PID");
	close(fd);
}

/* Brings IFNAME up, with ADDR/24 unless ADDR is NULL (ioctls on a socket of
 * the caller's namespace, as ifconfig does). */
static void link_up(const char *ifname, const char *addr)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0)
		die("socket");
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (addr) {
		struct sockaddr_in a = peer_addr(addr, 0);

		memcpy(&ifr.ifr_addr, &a, sizeof(a));
		if (ioctl(fd, SIOCSIFADDR, &ifr) < 0)
			die("SIOCSIFADDR");
		a.sin_addr.s_addr = htonl(0xffffff00);
		memcpy(&ifr.ifr_netmask, &a, sizeof(a));
		if (ioctl(fd, SIOCSIFNETMASK, &ifr) < 0)
			die("SIOCSIFNETMASK");
	}
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		die("SIOCGIFFLAGS");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		die("SIOCSIFFLAGS");
	close(fd);
}

/* The server in a new network namespace holding IFNAME alone: a child
 * unshares one, the parent moves the link into it by the child's pid (the
 * one step busybox cannot do: its ip has no `link set ... netns`), then the
 * child configures it and serves. Two pipes order the steps; the parent
 * returns the child's status once it has served. */
static int netns_serve(const char *ifname, const char *addr)
{
	int up[2], go[2], status;
	char c = 0;
	pid_t pid;

	if (pipe(up) < 0 || pipe(go) < 0)
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		if (unshare(CLONE_NEWNET) < 0)
			die("unshare CLONE_NEWNET");
		if (write(up[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
			die("netns-serve pipe");
		link_up("lo", NULL);
		link_up(ifname, addr);
		printf("io-bench: %s %s/24 in a network namespace of its own\n", ifname, addr);
		exit(serve());
	}
	if (read(up[0], &c, 1) != 1)
		die("netns-serve: the child did not unshare");
	move_link(ifname, pid);
	if (write(go[1], &c, 1) != 1)
		die("netns-serve pipe");
	if (waitpid(pid, &status, 0) < 0)
		die("waitpid");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

static unsigned num(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 0);

	if (*end || !v || v > 1000000) {
		printf("io-bench: error bad count %s\n", s);
		exit(2);
	}
	return (unsigned)v;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(mode, "randread") && argc == 4)
		rc = randread(argv[2], num(argv[3]));
	else if (!strcmp(mode, "seqread") && argc == 4)
		rc = seqread(argv[2], num(argv[3]));
	else if (!strcmp(mode, "ping") && argc == 4)
		rc = ping(argv[2], num(argv[3]));
	else if (!strcmp(mode, "stream") && argc == 4)
		rc = stream(argv[2], num(argv[3]));
	else if (!strcmp(mode, "wait") && argc == 4)
		rc = wait_peer(argv[2], num(argv[3]));
	else if (!strcmp(mode, "quit") && argc == 3)
		rc = quit(argv[2]);
	else if (!strcmp(mode, "serve") && argc == 2)
		rc = serve();
	else if (!strcmp(mode, "no-coalesce") && argc == 3)
		rc = no_coalesce(argv[2]);
	else if (!strcmp(mode, "netns-serve") && argc == 4)
		rc = netns_serve(argv[2], argv[3]);
	else {
		fprintf(stderr, "usage: io-bench randread|seqread DEV N, ping|stream|wait PEER N, quit PEER, serve, no-coalesce IF, netns-serve IF ADDR\n");
		rc = 2;
	}
	return rc;
}
