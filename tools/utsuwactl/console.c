/*
 * utsuwactl console (console.h): raw mode, the relay, and putting the
 * terminal back however utsuwactl leaves.
 */
#include "console.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

/* The terminal as it was; saved is set while raw mode is on. */
static struct termios saved_tio;
static volatile sig_atomic_t saved;

static void restore_tty(void)
{
	if (saved) {
		/* TCSADRAIN: what the VM printed last is not thrown away. */
		tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_tio);
		saved = 0;
	}
}

static int raw_tty(void)
{
	struct termios raw;

	if (tcgetattr(STDIN_FILENO, &saved_tio) < 0)
		return -1;
	raw = saved_tio;
	/* No echo, no line editing, no signals from keys: Ctrl-C goes to the VM. */
	cfmakeraw(&raw);
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	saved = 1;
	/* TCSANOW, not TCSAFLUSH: keys typed before this are the VM's too. */
	if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) < 0) {
		saved = 0;
		return -1;
	}
	return 0;
}

/* Signals that end utsuwactl: put the terminal back, then die of the signal. */
static const int fatal_signals[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGPIPE, SIGALRM,
				     SIGUSR1, SIGUSR2, SIGABRT };

static void on_fatal_signal(int sig)
{
	restore_tty();                         /* tcsetattr is async-signal-safe */
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Stopped (kill -TSTP; Ctrl-Z itself goes to the VM): the shell gets its
 * terminal back as it was, and raw mode again after SIGCONT. */
static void on_stop_signal(int sig)
{
	int err = errno;
	bool was_raw = saved;

	restore_tty();
	signal(sig, SIG_DFL);
	raise(sig);                            /* stops here until SIGCONT */
	signal(sig, on_stop_signal);
	if (was_raw)
		raw_tty();
	errno = err;
}

static void install_handlers(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_fatal_signal;
	for (size_t k = 0; k < sizeof(fatal_signals) / sizeof(fatal_signals[0]); k++)
		sigaction(fatal_signals[k], &sa, NULL);
	sa.sa_handler = on_stop_signal;
	sigaction(SIGTSTP, &sa, NULL);
	atexit(restore_tty);
}

int console_relay(struct http_conn *c, const char *name)
{
	bool tty = isatty(STDIN_FILENO);
	bool stdin_open = true;
	char buf[4096];
	int rc = 0;

	if (tty) {
		install_handlers();
		if (raw_tty() < 0) {
			fprintf(stderr, "utsuwactl: cannot put the terminal in raw mode: %s\n",
				strerror(errno));
			tty = false;
		} else {
			fprintf(stderr, "utsuwactl: %s's console; Ctrl-] leaves\r\n", name);
		}
	}

	/* What came with the 101's headers is the VM's already. */
	if (c->len > c->off) {
		write_all(STDOUT_FILENO, c->buf + c->off, c->len - c->off);
		c->off = c->len;
	}

	for (;;) {
		struct pollfd p[2] = {
			{ .fd = c->fd, .events = POLLIN },
			{ .fd = STDIN_FILENO, .events = POLLIN },
		};
		int n = poll(p, stdin_open ? 2 : 1, stdin_open ? -1 : CONSOLE_LINGER_MS);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			restore_tty();
			fprintf(stderr, "utsuwactl: poll: %s\n", strerror(errno));
			rc = -1;
			break;
		}
		if (n == 0)                    /* standard input ended, and the VM is quiet */
			break;

		if (p[0].revents) {
			ssize_t r = recv(c->fd, buf, sizeof(buf), 0);

			if (r < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
				continue;
			if (r <= 0) {
				restore_tty();
				if (r < 0)
					fprintf(stderr, "\nutsuwactl: %s's console: %s\n", name,
						strerror(errno));
				else
					fprintf(stderr, "\nutsuwactl: the host closed %s's console\n",
						name);
				break;
			}
			if (write_all(STDOUT_FILENO, buf, (size_t)r) < 0)
				break;         /* nobody reads our output any more */
		}

		if (stdin_open && p[1].revents) {
			ssize_t r = read(STDIN_FILENO, buf, sizeof(buf));
			char *esc;

			if (r < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (r <= 0) {
				stdin_open = false;
				continue;
			}
			esc = memchr(buf, CONSOLE_ESCAPE, (size_t)r);
			if (http_write(c, buf, esc ? (size_t)(esc - buf) : (size_t)r) < 0) {
				restore_tty();
				fprintf(stderr, "\nutsuwactl: %s's console: %s\n", name, http_error());
				rc = -1;
				break;
			}
			if (esc) {
				restore_tty();
				if (tty)
					fprintf(stderr, "\nutsuwactl: left %s's console\n", name);
				break;
			}
		}
	}
	restore_tty();
	return rc;
}
