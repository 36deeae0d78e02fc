/*
 * io-bench, for the Linux guest's initramfs (scripts/build-linux-guest.sh):
 * the guest side of `make bench-io` (bench/io.sh, bench/README.md "I/O").
 * Each mode times its requests with RDTSC; under QEMU -icount shift=0 a TSC
 * tick is one instruction of the whole emulated machine, so the figures are
 * instructions: the guest's, the hypervisor's and (under KVM) the L1's.
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
 *
 * Each measuring mode prints one line,
 *   io-bench: <mode> per=<N> ...
 * per is the median of the samples for randread and ping (instructions per
 * request or round trip) and the total over the MiB moved for seqread and
 * stream (instructions per MiB). Warm-up requests come first and are not
 * counted. Offsets come from a fixed-seed generator: every run reads the
 * same blocks.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
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

/* Prints "io-bench: MODE per=<median> n=<n> min=<min> mean=<mean>". */
static void report_samples(const char *mode, uint64_t *s, unsigned n)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < n; i++)
		sum += s[i];
	qsort(s, n, sizeof(*s), cmp_u64);
	printf("io-bench: %s per=%llu n=%u min=%llu max=%llu mean=%llu\n", mode,
	       (unsigned long long)s[n / 2], n, (unsigned long long)s[0],
	       (unsigned long long)s[n - 1], (unsigned long long)(sum / n));
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
	else {
		fprintf(stderr, "usage: io-bench randread|seqread DEV N, ping|stream|wait PEER N, quit PEER, serve\n");
		rc = 2;
	}
	return rc;
}
