/* The POSIX HAL: the firmware as a Linux/macOS process (clock, mmap arenas, ppoll, UART on stdio or a pty). */
#define _GNU_SOURCE
#include "hal_posix.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "cpu_quota.h"
#include "hal.h"
#include "limits.h"

/* Connections the kernel completes for a listener before the firmware accepts them. A burst of
   connects past it is dropped at SYN and retried by the client after ~1 s (issue 13: 32 attacking
   clients at a backlog of 16 stalled a legitimate operator's connect for a second); the kernel caps
   it at net.core.somaxconn. */
#define HAL_LISTEN_BACKLOG_CONNECTIONS 256

/* Sockets and listeners the platform tracks; a little above the bindings' own tables. */
#define HAL_HANDLES_MAX (NET_SOCKETS_MAX + NET_LISTENERS_MAX + 8)

typedef struct Handle {
  int fd; /* -1 = free */
  int want_write;
  int read_off; /* hal_net_want_read(.., 0): reads paused, so readable bytes do not wake the wait */
  unsigned ready;
} Handle;

static Handle g_handles[HAL_HANDLES_MAX];
/* One past the highest handle ever used: each pump turn scans only that far (a hive uses a handful
   of the HAL_HANDLES_MAX, and the full scan was a third of the pump's own cost per 9P request). */
static int g_handles_top;
static int g_uart_in = -1, g_uart_out = -1;
static int g_uart_ready;
/* The UART is a pty master (hal_posix_init_pty): a read error or hang-up is a terminal leaving,
   not the end of input. While hung up (g_uart_hup) the master is not polled (it would poll ready
   for ever), output is dropped (it would wait for the next terminal, stale), and every
   HAL_UART_HUP_RECHECK_US a zero-timeout poll looks for a terminal on the slave again. */
static int g_uart_pty;
static int g_uart_hup;
static uint64_t g_uart_recheck_us;

/* The pump waits in epoll: every handle is registered once, where ppoll set up (and tore down) a
   wait on every fd on every turn, a system call's worth of work per 9P request. Without epoll
   (epoll_create1 failed, or a registration did) the pump falls back to ppoll over the table. */
static int g_epfd = -1;
/* epoll's tag for the UART input, beside the handle indexes. */
#define EPOLL_UART_TAG ((uint32_t)HAL_HANDLES_MAX)
/* epoll's tag for the wake pipe (hal_posix_wake). */
#define EPOLL_WAKE_TAG ((uint32_t)HAL_HANDLES_MAX + 1u)
/* Events one wait takes: every handle, the UART and the wake pipe. */
#define WAIT_EVENTS_MAX (HAL_HANDLES_MAX + 2)
/* The UART input is in the epoll set (only while unread input is not pending). */
static int g_uart_watched;
/* The UART input is a regular file (epoll refuses those): always readable, as poll says. */
static int g_uart_always;
/* epoll_pwait2 (a timespec, µs deadlines kept) failed here once (an old kernel, or a seccomp
   profile that refuses it): epoll_wait in ms from then on. */
static int g_no_pwait2;

/* The wake pipe: a signal handler writes a byte (hal_posix_wake) so a wait, sleeping or spinning,
   returns at once and the pump sees its stop flag. A zero-timeout poll never fails with EINTR, and
   a signal landing between the pump's check and its sleep would otherwise wait out the deadline. */
static int g_wake_rd = -1, g_wake_wr = -1;

/* Spin-then-park (hal_posix_set_spin_us): after a wait that returned input, the next wait polls
   for up to g_spin_us before it sleeps. A client in a request loop sends its next request within
   tens of µs of our reply; seen by a poll, it costs no wake-up of a sleeping CPU, which on a VM is
   half of a loopback round trip (bench/ninep.py, docs/ninedoor.md). The price is bounded: at most
   g_spin_us of CPU after each burst of input, none while the hive is idle, and none on one CPU,
   where the spin would only keep the client from running. */
static uint32_t g_spin_us;
/* Where cgroups are mounted, and the fewest CPUs (affinity or quota) the spin needs. */
#define CGROUP_ROOT "/sys/fs/cgroup"
#define HAL_SPIN_CPUS_MIN 2.0
/* The last wait returned input (a socket or the UART): the next one may spin. */
static int g_input_last_wait;

/* epoll_pwait2 through syscall(2): glibc wraps it only from 2.35 on. */
static int epoll_wait_timespec(int epfd, struct epoll_event *ev, int max, const struct timespec *ts) {
#ifdef SYS_epoll_pwait2
  return (int)syscall(SYS_epoll_pwait2, epfd, ev, max, ts, NULL, (size_t)0);
#else
  (void)epfd, (void)ev, (void)max, (void)ts;
  errno = ENOSYS;
  return -1;
#endif
}

static void epoll_give_up(void) {
  if (g_epfd >= 0) close(g_epfd);
  g_epfd = -1;
  g_uart_watched = 0;
}

/* epoll_ctl with `tag` as the event's data; its result, errno set on failure. */
static int epoll_tagged(int op, int fd, uint32_t events, uint32_t tag) {
  struct epoll_event ev;
  memset(&ev, 0, sizeof ev);
  ev.events = events;
  ev.data.u32 = tag;
  return epoll_ctl(g_epfd, op, fd, &ev);
}

/* A registration that must hold, or epoll is given up for ppoll (a failed removal is harmless). */
static void epoll_set(int op, int fd, uint32_t events, uint32_t tag) {
  if (g_epfd < 0) return;
  if (epoll_tagged(op, fd, events, tag) != 0 && op != EPOLL_CTL_DEL) epoll_give_up();
}

static void uart_watch(int on) {
  if (g_epfd < 0 || g_uart_in < 0 || g_uart_always || on == g_uart_watched) return;
  if (!on) {
    epoll_set(EPOLL_CTL_DEL, g_uart_in, 0, EPOLL_UART_TAG);
    g_uart_watched = 0;
    return;
  }
  if (epoll_tagged(EPOLL_CTL_ADD, g_uart_in, EPOLLIN, EPOLL_UART_TAG) == 0) g_uart_watched = 1;
  else if (errno == EPERM) g_uart_always = 1;
  else epoll_give_up();
}

int hal_posix_set_spin_us(uint32_t spin_us) {
  if (spin_us > HAL_SPIN_US_MAX) return -1;
  g_spin_us = 0;
  if (spin_us == 0) return 0; /* nothing to decide: no reading of affinity and cgroup files */
  cpu_set_t cpus;
  /* One CPU to run on (a taskset, a one-core VM): spinning would only delay the peer it waits
     for. Under a cgroup quota below two CPUs (a container's --cpus) it would spend the quota the
     hive needs, and be throttled for it. */
  int several = sched_getaffinity(0, sizeof cpus, &cpus) != 0 || CPU_COUNT(&cpus) > 1;
  double quota = cpu_quota_cpus("/proc/self/cgroup", CGROUP_ROOT);
  g_spin_us = several && (quota == 0 || quota >= HAL_SPIN_CPUS_MIN) ? spin_us : 0;
  return (int)g_spin_us;
}

void hal_posix_wake(void) {
  if (g_wake_wr < 0) return;
  int saved = errno; /* called from signal handlers */
  char one = 1;
  ssize_t w = write(g_wake_wr, &one, 1); /* a full pipe is already a pending wake */
  (void)w;
  errno = saved;
}

static void wake_drain(void) {
  char buf[64];
  while (read(g_wake_rd, buf, sizeof buf) > 0) {
  }
}

void hal_posix_init(int uart_in, int uart_out) {
  for (int i = 0; i < HAL_HANDLES_MAX; i++) g_handles[i].fd = -1;
  g_uart_in = uart_in;
  g_uart_out = uart_out;
  if (uart_in >= 0) fcntl(uart_in, F_SETFL, fcntl(uart_in, F_GETFL) | O_NONBLOCK);
  int p[2];
  if (pipe(p) == 0) {
    for (int i = 0; i < 2; i++) {
      fcntl(p[i], F_SETFL, fcntl(p[i], F_GETFL) | O_NONBLOCK);
      fcntl(p[i], F_SETFD, FD_CLOEXEC);
    }
    g_wake_rd = p[0];
    g_wake_wr = p[1];
  }
  g_epfd = epoll_create1(EPOLL_CLOEXEC);
  if (g_wake_rd >= 0) epoll_set(EPOLL_CTL_ADD, g_wake_rd, EPOLLIN, EPOLL_WAKE_TAG);
}

int hal_posix_init_pty(char *name, size_t name_cap) {
  int m = posix_openpt(O_RDWR | O_NOCTTY);
  struct termios t;
  const char *slave = NULL;
  /* Termios set on the master is the slave's, and it stays while the master is open: every
     terminal that opens the slave later finds it raw too (unless it changes it itself). */
  if (m < 0 || grantpt(m) != 0 || unlockpt(m) != 0 || tcgetattr(m, &t) != 0) goto fail;
  cfmakeraw(&t);
  if (tcsetattr(m, TCSANOW, &t) != 0 || !(slave = ptsname(m)) || strlen(slave) >= name_cap) goto fail;
  memcpy(name, slave, strlen(slave) + 1);
  fcntl(m, F_SETFD, FD_CLOEXEC);
  hal_posix_init(m, m);
  g_uart_pty = 1;
  return 0;
fail:
  if (m >= 0) {
    int saved = errno;
    close(m);
    errno = saved;
  }
  return -1;
}

/* ---- engine half ---- */

uint64_t hal_clock_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t hal_thread_cpu_us(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return HAL_THREAD_CPU_NONE;
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t hal_wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void *hal_mem_alloc(size_t bytes) {
  /* Each arena is its own mapping: freeing it gives exactly that task's pages back to the OS. */
  void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

void hal_mem_free(void *mem, size_t bytes) { munmap(mem, bytes); }

/* A hung-up pty: looks for a terminal again once its recheck is due, and returns the deadline the
   wait keeps (no later than the next recheck). */
static uint64_t uart_hup_deadline(uint64_t deadline_us) {
  if (!g_uart_hup) return deadline_us;
  uint64_t now = hal_clock_us();
  if (now >= g_uart_recheck_us) {
    struct pollfd p = {g_uart_in, POLLIN, 0};
    /* A terminal is back, or one left input before it closed: the wait watches the UART again
       (a read that finds it gone hangs up again). */
    if (poll(&p, 1, 0) >= 0 && ((p.revents & POLLIN) || !(p.revents & (POLLHUP | POLLERR)))) {
      g_uart_hup = 0;
      return deadline_us;
    }
    g_uart_recheck_us = now + HAL_UART_HUP_RECHECK_US;
  }
  return deadline_us < g_uart_recheck_us ? deadline_us : g_uart_recheck_us;
}

static void uart_hang_up(void) {
  uart_watch(0);
  g_uart_ready = 0;
  g_uart_hup = 1;
  g_uart_recheck_us = hal_clock_us() + HAL_UART_HUP_RECHECK_US;
}

/* The pump's wait over the epoll set; the same readiness bits as the ppoll wait below. */
static void wait_epoll(uint64_t deadline_us) {
  int now_ready = 0;
  if (g_uart_in >= 0 && !g_uart_ready && !g_uart_hup) {
    uart_watch(1);
    if (g_uart_always) g_uart_ready = now_ready = 1;
  }
  if (g_epfd < 0) return; /* gave up just now: hal_wait_until waits in ppoll instead */
  for (int i = 0; i < g_handles_top; i++) g_handles[i].ready = 0;
  struct epoll_event ev[WAIT_EVENTS_MAX];
  uint64_t now = hal_clock_us();
  uint64_t d = now_ready || deadline_us <= now ? 0 : deadline_us - now;
  int r = 0;
  if (g_spin_us && g_input_last_wait && d > 0) {
    /* Polls until input, the deadline or the end of the spin; a failed poll just ends it early. */
    uint64_t until = now + g_spin_us < deadline_us ? now + g_spin_us : deadline_us;
    do {
      r = epoll_wait(g_epfd, ev, WAIT_EVENTS_MAX, 0);
      now = hal_clock_us();
    } while (r == 0 && now < until);
    if (r > 0) goto ready;
    r = 0;
    d = deadline_us <= now ? 0 : deadline_us - now;
  }
  if (!g_no_pwait2) {
    struct timespec ts = {(time_t)(d / 1000000u), (long)(d % 1000000u) * 1000L};
    r = epoll_wait_timespec(g_epfd, ev, WAIT_EVENTS_MAX, deadline_us == HAL_DEADLINE_NONE && !now_ready ? NULL : &ts);
    /* Any failure but a signal means this kernel or sandbox will not have it: never spin on it. */
    if (r < 0 && errno != EINTR) g_no_pwait2 = 1;
  }
  if (g_no_pwait2) {
    /* Rounded up, so a deadline is never met early. */
    int ms = deadline_us == HAL_DEADLINE_NONE && !now_ready ? -1 : (int)((d + 999u) / 1000u);
    r = epoll_wait(g_epfd, ev, WAIT_EVENTS_MAX, ms);
  }
ready:
  g_input_last_wait = r > 0;
  for (int k = 0; k < r; k++) {
    uint32_t tag = ev[k].data.u32;
    if (tag == EPOLL_WAKE_TAG) {
      wake_drain();
      continue;
    }
    if (tag == EPOLL_UART_TAG) {
      /* Unread UART input is not reported again until it has been read (hal_uart_read). */
      g_uart_ready = 1;
      uart_watch(0);
      continue;
    }
    if (tag >= (uint32_t)HAL_HANDLES_MAX || g_handles[tag].fd < 0) continue;
    uint32_t e = ev[k].events;
    unsigned bits = 0;
    if (e & EPOLLIN) bits |= HAL_NET_READABLE;
    if (e & EPOLLOUT) bits |= HAL_NET_WRITABLE;
    if (e & (EPOLLHUP | EPOLLERR)) bits |= HAL_NET_READABLE | HAL_NET_FAILED;
    g_handles[tag].ready = bits;
  }
}

void hal_wait_until(uint64_t deadline_us) {
  deadline_us = uart_hup_deadline(deadline_us);
  if (g_epfd >= 0) {
    wait_epoll(deadline_us);
    if (g_epfd >= 0) return;
  }
  struct pollfd pfd[WAIT_EVENTS_MAX];
  int map[WAIT_EVENTS_MAX];
  nfds_t n = 0;
  if (g_wake_rd >= 0) {
    pfd[n].fd = g_wake_rd;
    pfd[n].events = POLLIN;
    map[n++] = -2;
  }
  /* Unread UART input is not polled again, or a UART nobody reads would spin the pump. */
  if (g_uart_in >= 0 && !g_uart_ready && !g_uart_hup) {
    pfd[n].fd = g_uart_in;
    pfd[n].events = POLLIN;
    map[n++] = -1;
  }
  for (int i = 0; i < g_handles_top; i++) {
    g_handles[i].ready = 0;
    if (g_handles[i].fd < 0) continue;
    pfd[n].fd = g_handles[i].fd;
    pfd[n].events = (short)((g_handles[i].read_off ? 0 : POLLIN) | (g_handles[i].want_write ? POLLOUT : 0));
    map[n++] = i;
  }
  uint64_t now = hal_clock_us();
  struct timespec ts = {0, 0};
  if (deadline_us > now) {
    uint64_t d = deadline_us - now;
    ts.tv_sec = (time_t)(d / 1000000u);
    ts.tv_nsec = (long)(d % 1000000u) * 1000L;
  }
  int r = ppoll(pfd, n, deadline_us == HAL_DEADLINE_NONE ? NULL : &ts, NULL);
  if (r <= 0) return; /* timeout, or EINTR from a signal: the pump re-checks its stop flag */
  for (nfds_t k = 0; k < n; k++) {
    short ev = pfd[k].revents;
    if (!ev) continue;
    if (map[k] == -2) {
      wake_drain();
      continue;
    }
    if (map[k] < 0) {
      g_uart_ready = 1;
      continue;
    }
    unsigned bits = 0;
    if (ev & POLLIN) bits |= HAL_NET_READABLE;
    if (ev & POLLOUT) bits |= HAL_NET_WRITABLE;
    if (ev & (POLLHUP | POLLERR | POLLNVAL)) bits |= HAL_NET_READABLE | HAL_NET_FAILED;
    g_handles[map[k]].ready = bits;
  }
}

/* ---- UART ---- */

size_t hal_uart_read(uint8_t *buf, size_t cap) {
  if (g_uart_in < 0 || !g_uart_ready) return 0;
  g_uart_ready = 0;
  ssize_t n = read(g_uart_in, buf, cap);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
    if (g_uart_pty) {
      /* EIO: the last terminal closed the slave. Keep the master; a terminal may open it again. */
      uart_hang_up();
      return 0;
    }
    /* End of input (stdin closed): stop polling it, or the pump would spin on a dead fd. */
    uart_watch(0);
    g_uart_in = -1;
    return 0;
  }
  return n > 0 ? (size_t)n : 0;
}

void hal_uart_write(const uint8_t *buf, size_t len) {
  if (g_uart_out < 0 || g_uart_hup) return; /* no terminal: a UART's output nobody hears is gone */
  /* The UART is slow on real hardware too; a stuck terminal may block us, so bound the retries. */
  for (unsigned tries = 0; len && tries < 1000u; tries++) {
    ssize_t n = write(g_uart_out, buf, len);
    if (n > 0) {
      buf += n;
      len -= (size_t)n;
    } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
      return;
    }
  }
}

void hal_log_write(const char *line, size_t len) {
  char out[LOG_LINE_BYTES_MAX + 2];
  if (len > LOG_LINE_BYTES_MAX) len = LOG_LINE_BYTES_MAX;
  memcpy(out, line, len);
  out[len] = '\n';
  ssize_t w = write(2, out, len + 1);
  (void)w;
}

/* ---- sockets ---- */

static int handle_new(int fd) {
  for (int i = 0; i < HAL_HANDLES_MAX; i++)
    if (g_handles[i].fd < 0) {
      g_handles[i].fd = fd;
      g_handles[i].want_write = 0;
      g_handles[i].read_off = 0;
      g_handles[i].ready = 0;
      if (i >= g_handles_top) g_handles_top = i + 1;
      epoll_set(EPOLL_CTL_ADD, fd, EPOLLIN, (uint32_t)i);
      return i;
    }
  close(fd);
  return HAL_E_NOSPC;
}

static int handle_fd(int h) { return (h >= 0 && h < HAL_HANDLES_MAX) ? g_handles[h].fd : -1; }

int hal_net_listen(const char *host, uint16_t port) {
  struct addrinfo hints, *ai = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
  char portstr[8];
  snprintf(portstr, sizeof portstr, "%u", port);
  if (getaddrinfo(host, portstr, &hints, &ai) != 0 || !ai) return HAL_E_INVAL;
  int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  int rc = HAL_E_IO;
  if (fd >= 0) {
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) rc = errno == EADDRINUSE ? HAL_E_ADDRINUSE : HAL_E_IO;
    else if (listen(fd, HAL_LISTEN_BACKLOG_CONNECTIONS) != 0) rc = HAL_E_IO;
    else rc = 0;
  }
  freeaddrinfo(ai);
  if (rc < 0) {
    if (fd >= 0) close(fd);
    return rc;
  }
  return handle_new(fd);
}

int hal_net_local_port(int listener) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  int fd = handle_fd(listener);
  if (fd < 0 || getsockname(fd, (struct sockaddr *)&ss, &len) != 0) return HAL_E_INVAL;
  if (ss.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&ss)->sin_port);
  return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

int hal_net_accept(int listener, char *peer, size_t peer_len) {
  int lfd = handle_fd(listener);
  if (lfd < 0) return HAL_E_INVAL;
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  int fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? HAL_E_AGAIN : HAL_E_IO;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* console lines are small: no Nagle delay */
  char host[64] = "?";
  unsigned port = 0;
  if (ss.ss_family == AF_INET) {
    inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof host);
    port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host, sizeof host);
    port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
  }
  snprintf(peer, peer_len, "%s:%u", host, port);
  return handle_new(fd);
}

long hal_net_recv(int sock, uint8_t *buf, size_t cap) {
  int fd = handle_fd(sock);
  if (fd < 0) return HAL_E_INVAL;
  ssize_t n = recv(fd, buf, cap, MSG_DONTWAIT);
  if (n >= 0) return (long)n;
  return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? HAL_E_AGAIN : HAL_E_IO;
}

long hal_net_send(int sock, const uint8_t *buf, size_t len) {
  int fd = handle_fd(sock);
  if (fd < 0) return HAL_E_INVAL;
  ssize_t n = send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
  if (n >= 0) return (long)n;
  return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? HAL_E_AGAIN : HAL_E_IO;
}

void hal_net_close(int handle) {
  int fd = handle_fd(handle);
  if (fd < 0) return;
  epoll_set(EPOLL_CTL_DEL, fd, 0, (uint32_t)handle);
  close(fd);
  g_handles[handle].fd = -1;
  g_handles[handle].ready = 0;
}

/* The epoll events a handle asks for now. */
static uint32_t handle_events(int h) {
  return (g_handles[h].read_off ? 0u : (uint32_t)EPOLLIN) | (g_handles[h].want_write ? (uint32_t)EPOLLOUT : 0u);
}

void hal_net_want_write(int sock, int on) {
  int fd = handle_fd(sock);
  if (fd < 0 || g_handles[sock].want_write == on) return;
  g_handles[sock].want_write = on;
  epoll_set(EPOLL_CTL_MOD, fd, handle_events(sock), (uint32_t)sock);
}

void hal_net_want_read(int sock, int on) {
  int fd = handle_fd(sock);
  if (fd < 0 || g_handles[sock].read_off == !on) return;
  g_handles[sock].read_off = !on;
  epoll_set(EPOLL_CTL_MOD, fd, handle_events(sock), (uint32_t)sock);
}

unsigned hal_net_ready(int handle) { return handle_fd(handle) >= 0 ? g_handles[handle].ready : 0; }
