/* hal_net_* over lwIP's raw TCP API (NO_SYS): listeners, connections and their readiness, with host/sim's semantics (level readiness, back-pressure, reset = failed handle). */
#include "net_sockets.h"

#include <stdio.h>
#include <string.h>

#include "../../bindings/hal.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"

_Static_assert(COHESIX_LWIP_TCP_PCBS == NET_SOCKETS_MAX, "a handle for every connection lwIP can hold");
_Static_assert(NET_SOCKETS_LISTEN_BACKLOG <= 255, "lwIP's backlog is a u8_t");
_Static_assert(TCP_WND <= 0xffff, "a connection's unread bytes (at most one window) fit a pbuf chain's u16_t length");

typedef enum SockKind { SOCK_FREE = 0, SOCK_LISTENER, SOCK_PENDING, SOCK_CONN } SockKind;

#define SOCK_NONE (-1)

typedef struct NetSock {
  SockKind kind;
  struct tcp_pcb *pcb; /* NULL once lwIP has freed it (error callback) */
  /* Connections (pending or accepted). */
  struct pbuf *rx;   /* received, not yet read: at most the receive window, since only reads open it */
  int eof;           /* the peer sent FIN: reads give 0 once rx is empty */
  int failed;        /* lwIP ended it (RST, retransmits or keep-alive exhausted): reads fail, FAILED reported */
  int send_blocked;  /* the last send was refused: not WRITABLE until lwIP reports progress (sent or poll) */
  int want_write;
  int read_off;
  int next_pending;  /* the listener's queue of connections not accepted yet */
  ip_addr_t peer;
  uint16_t peer_port;
  /* Listeners. */
  int pending_head, pending_tail;
  unsigned ready;
} NetSock;

static NetSock g_socks[NET_SOCKETS_HANDLES_MAX];
/* One past the highest handle in use: collect scans only that far (as host/sim's g_handles_top). */
static int g_top;
static NetSocketsStats g_stats;
/* net_sockets_init ran (lwIP is up with an interface): until then every listen is refused. */
static int g_up;

static void sock_reset(NetSock *s) {
  memset(s, 0, sizeof *s);
  s->kind = SOCK_FREE;
  s->next_pending = s->pending_head = s->pending_tail = SOCK_NONE;
}

void net_sockets_init(void) {
  for (int i = 0; i < NET_SOCKETS_HANDLES_MAX; i++) sock_reset(&g_socks[i]);
  g_top = 0;
  memset(&g_stats, 0, sizeof g_stats);
  g_up = 1;
}

NetSocketsStats net_sockets_stats(void) { return g_stats; }

unsigned net_sockets_in_use(void) {
  unsigned n = 0;
  for (int i = 0; i < g_top; i++) n += g_socks[i].kind != SOCK_FREE;
  return n;
}

static int sock_new(SockKind kind) {
  for (int i = 0; i < NET_SOCKETS_HANDLES_MAX; i++)
    if (g_socks[i].kind == SOCK_FREE) {
      sock_reset(&g_socks[i]);
      g_socks[i].kind = kind;
      if (i >= g_top) g_top = i + 1;
      return i;
    }
  return SOCK_NONE;
}

static void sock_free(int h) {
  NetSock *s = &g_socks[h];
  if (s->rx) pbuf_free(s->rx);
  sock_reset(s);
  while (g_top > 0 && g_socks[g_top - 1].kind == SOCK_FREE) g_top--;
}

static NetSock *sock_get(int h, SockKind kind) {
  if (h < 0 || h >= NET_SOCKETS_HANDLES_MAX || g_socks[h].kind != kind) return NULL;
  return &g_socks[h];
}

/* ---- lwIP callbacks (arg = the handle's NetSock; NULL once the handle is closed) ---- */

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err) {
  NetSock *s = arg;
  (void)err; /* lwIP 2.1 passes ERR_OK here, always */
  if (!s) {
    /* The handle was closed while data was in flight: taken and dropped, as lwIP's own default does. */
    if (p) {
      tcp_recved(pcb, p->tot_len);
      pbuf_free(p);
    }
    return ERR_OK;
  }
  if (!p) {
    s->eof = 1;
    return ERR_OK;
  }
  /* Kept until read, and not acknowledged to the window until then (tcp_recved in hal_net_recv):
     a paused reader slows the peer, as the kernel's receive buffer does on the host. The bytes move
     out of the receive pool (a whole 1536-byte frame buffer each, COHESIX_LWIP_RX_POOL_FRAMES of
     them for every connection) into lwIP's heap, so readers that pause cannot starve the device of
     buffers, and with them every other connection's ACKs; with the heap full they stay where they are. */
  struct pbuf *copy = pbuf_clone(PBUF_RAW, PBUF_RAM, p);
  if (copy) {
    pbuf_free(p);
    p = copy;
  }
  if (s->rx)
    pbuf_cat(s->rx, p);
  else
    s->rx = p;
  return ERR_OK;
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len) {
  NetSock *s = arg;
  (void)pcb;
  (void)len;
  if (s) s->send_blocked = 0;
  return ERR_OK;
}

static err_t on_poll(void *arg, struct tcp_pcb *pcb) {
  NetSock *s = arg;
  (void)pcb;
  /* A send refused for lwIP's heap (no data of ours in flight, so no sent callback will come). */
  if (s) s->send_blocked = 0;
  return ERR_OK;
}

static void on_err(void *arg, err_t err) {
  NetSock *s = arg;
  (void)err;
  if (!s) return;
  /* lwIP has freed the PCB. Unread bytes go with it, as a reset discards them on the host. */
  g_stats.resets++;
  s->pcb = NULL;
  s->failed = 1;
  if (s->rx) {
    pbuf_free(s->rx);
    s->rx = NULL;
  }
}

static void conn_detach(struct tcp_pcb *pcb) {
  tcp_arg(pcb, NULL);
  tcp_recv(pcb, NULL); /* lwIP's tcp_recv_null: drops data, completes a close on FIN */
  tcp_sent(pcb, NULL);
  tcp_err(pcb, NULL);
  tcp_poll(pcb, NULL, 0);
}

static err_t on_accept(void *arg, struct tcp_pcb *newpcb, err_t err) {
  NetSock *l = arg;
  if (err != ERR_OK || !newpcb) return ERR_VAL;
  int h = l ? sock_new(SOCK_PENDING) : SOCK_NONE;
  if (h == SOCK_NONE) {
    g_stats.accept_refused++;
    tcp_abort(newpcb);
    return ERR_ABRT;
  }
  NetSock *s = &g_socks[h];
  s->pcb = newpcb;
  ip_addr_copy(s->peer, newpcb->remote_ip);
  s->peer_port = newpcb->remote_port;
  tcp_arg(newpcb, s);
  tcp_recv(newpcb, on_recv);
  tcp_sent(newpcb, on_sent);
  tcp_err(newpcb, on_err);
  tcp_poll(newpcb, on_poll, NET_SOCKETS_POLL_COARSE_TICKS);
  tcp_nagle_disable(newpcb); /* console lines are small: no Nagle delay (host/sim sets TCP_NODELAY) */
  ip_set_option(newpcb, SOF_KEEPALIVE);
  newpcb->keep_idle = NET_SOCKETS_KEEPALIVE_IDLE_MS;
  newpcb->keep_intvl = NET_SOCKETS_KEEPALIVE_INTERVAL_MS;
  newpcb->keep_cnt = NET_SOCKETS_KEEPALIVE_PROBES;
  /* Counted against the listener's backlog until the firmware accepts it. */
  tcp_backlog_delayed(newpcb);
  if (l->pending_tail == SOCK_NONE)
    l->pending_head = h;
  else
    g_socks[l->pending_tail].next_pending = h;
  l->pending_tail = h;
  g_stats.accepted++;
  return ERR_OK;
}

/* ---- the HAL ---- */

int hal_net_listen(const char *host, uint16_t port) {
  ip4_addr_t addr;
  if (!g_up) return HAL_E_INVAL; /* no device, so no stack: the platform logged why at boot */
  if (!host || !ip4addr_aton(host, &addr)) return HAL_E_INVAL;
  /* lwIP has no loopback interface here: a listener on any other address than ours (or any) could
     never be reached, so it is refused rather than left silent. */
  if (!ip4_addr_isany_val(addr) && !(netif_default && ip4_addr_cmp(&addr, netif_ip4_addr(netif_default))))
    return HAL_E_INVAL;
  int h = sock_new(SOCK_LISTENER);
  if (h == SOCK_NONE) return HAL_E_NOSPC;
  struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
  if (!pcb) {
    sock_free(h);
    return HAL_E_NOSPC;
  }
  /* A listener re-opened (restart tcp-console) while its old connections live on or wait in
     TIME_WAIT: SO_REUSEADDR, as host/sim sets. Accepted PCBs inherit it. */
  ip_set_option(pcb, SOF_REUSEADDR);
  ip_addr_t bind_addr;
  ip_addr_copy_from_ip4(bind_addr, addr);
  err_t e = tcp_bind(pcb, &bind_addr, port);
  if (e != ERR_OK) {
    tcp_abort(pcb);
    sock_free(h);
    return e == ERR_USE ? HAL_E_ADDRINUSE : HAL_E_IO;
  }
  struct tcp_pcb *lpcb = tcp_listen_with_backlog_and_err(pcb, NET_SOCKETS_LISTEN_BACKLOG, &e);
  if (!lpcb) {
    /* With SOF_REUSEADDR the bind succeeds and the listen is where another listener's port shows. */
    tcp_abort(pcb);
    sock_free(h);
    return e == ERR_USE ? HAL_E_ADDRINUSE : HAL_E_NOSPC;
  }
  g_socks[h].pcb = lpcb;
  tcp_arg(lpcb, &g_socks[h]);
  tcp_accept(lpcb, on_accept);
  return h;
}

int hal_net_local_port(int listener) {
  NetSock *l = sock_get(listener, SOCK_LISTENER);
  return l ? (int)l->pcb->local_port : HAL_E_INVAL;
}

int hal_net_accept(int listener, char *peer, size_t peer_len) {
  NetSock *l = sock_get(listener, SOCK_LISTENER);
  if (!l) return HAL_E_INVAL;
  if (peer_len) peer[0] = 0;
  int h = l->pending_head;
  if (h == SOCK_NONE) return HAL_E_AGAIN;
  NetSock *s = &g_socks[h];
  l->pending_head = s->next_pending;
  if (l->pending_head == SOCK_NONE) l->pending_tail = SOCK_NONE;
  s->next_pending = SOCK_NONE;
  s->kind = SOCK_CONN;
  if (s->pcb) tcp_backlog_accepted(s->pcb);
  /* A connection reset before it was accepted is still handed out (accept on the host may do the
     same); its first read fails and the owner closes it. */
  if (peer_len) {
    char ip[IP4ADDR_STRLEN_MAX];
    ip4addr_ntoa_r(ip_2_ip4(&s->peer), ip, sizeof ip);
    snprintf(peer, peer_len, "%s:%u", ip, (unsigned)s->peer_port);
  }
  return h;
}

long hal_net_recv(int sock, uint8_t *buf, size_t cap) {
  NetSock *s = sock_get(sock, SOCK_CONN);
  if (!s) return HAL_E_INVAL;
  if (s->rx && cap) {
    u16_t n = cap < s->rx->tot_len ? (u16_t)cap : s->rx->tot_len;
    pbuf_copy_partial(s->rx, buf, n, 0);
    s->rx = pbuf_free_header(s->rx, n);
    if (s->pcb) tcp_recved(s->pcb, n); /* the window opens only as the owner reads */
    return (long)n;
  }
  if (s->failed) return HAL_E_IO;
  if (s->eof) return 0;
  return HAL_E_AGAIN;
}

long hal_net_send(int sock, const uint8_t *buf, size_t len) {
  NetSock *s = sock_get(sock, SOCK_CONN);
  if (!s) return HAL_E_INVAL;
  if (s->failed || !s->pcb) return HAL_E_IO;
  if (!len) return 0;
  u16_t room = tcp_sndbuf(s->pcb);
  if (room == 0 || tcp_sndqueuelen(s->pcb) >= TCP_SND_QUEUELEN) {
    s->send_blocked = 1;
    g_stats.send_busy++;
    return HAL_E_AGAIN;
  }
  u16_t n = len < room ? (u16_t)len : room;
  err_t e = tcp_write(s->pcb, buf, n, TCP_WRITE_FLAG_COPY);
  /* ERR_MEM with room in the buffer: lwIP's heap or segment pool is short. A smaller piece may
     fit; at most log2(TCP_SND_BUF / TCP_MSS) halvings. */
  while (e == ERR_MEM && n > TCP_MSS) {
    n /= 2u;
    e = tcp_write(s->pcb, buf, n, TCP_WRITE_FLAG_COPY);
  }
  if (e == ERR_MEM) {
    s->send_blocked = 1;
    g_stats.send_busy++;
    return HAL_E_AGAIN; /* back-pressure: nothing was taken, nothing is lost */
  }
  if (e != ERR_OK) return HAL_E_IO;
  tcp_output(s->pcb);
  return (long)n;
}

static void conn_close(int h) {
  NetSock *s = &g_socks[h];
  if (s->pcb) {
    conn_detach(s->pcb);
    /* Unread bytes make lwIP send RST, as close() does on the host; a close lwIP cannot queue
       (no memory for the FIN) becomes an abort rather than a PCB left behind. */
    if (tcp_close(s->pcb) != ERR_OK) tcp_abort(s->pcb);
  }
  sock_free(h);
}

void hal_net_close(int handle) {
  if (handle < 0 || handle >= NET_SOCKETS_HANDLES_MAX) return;
  NetSock *s = &g_socks[handle];
  if (s->kind == SOCK_LISTENER) {
    /* Connections never accepted go with their listener. */
    for (int h = s->pending_head, steps = 0; h != SOCK_NONE && steps < NET_SOCKETS_HANDLES_MAX; steps++) {
      int next = g_socks[h].next_pending;
      if (g_socks[h].pcb) {
        conn_detach(g_socks[h].pcb);
        tcp_abort(g_socks[h].pcb);
        g_socks[h].pcb = NULL;
      }
      sock_free(h);
      h = next;
    }
    tcp_arg(s->pcb, NULL);
    tcp_close(s->pcb); /* a listening PCB's close cannot fail */
    sock_free(handle);
  } else if (s->kind == SOCK_CONN) {
    conn_close(handle);
  }
}

void hal_net_want_write(int sock, int on) {
  NetSock *s = sock_get(sock, SOCK_CONN);
  if (s) s->want_write = on;
}

void hal_net_want_read(int sock, int on) {
  NetSock *s = sock_get(sock, SOCK_CONN);
  if (s) s->read_off = !on;
}

unsigned hal_net_ready(int handle) {
  if (handle < 0 || handle >= NET_SOCKETS_HANDLES_MAX) return 0;
  return g_socks[handle].ready;
}

unsigned net_sockets_collect(void) {
  unsigned ready = 0;
  for (int h = 0; h < g_top; h++) {
    NetSock *s = &g_socks[h];
    unsigned bits = 0;
    if (s->kind == SOCK_LISTENER) {
      if (s->pending_head != SOCK_NONE) bits |= HAL_NET_READABLE;
    } else if (s->kind == SOCK_CONN) {
      /* Level, as epoll's is on the host: unread bytes (or the end) stay READABLE until read;
         a failure is reported even while reads are paused. */
      if (s->failed)
        bits |= HAL_NET_READABLE | HAL_NET_FAILED;
      else if (!s->read_off && (s->rx || s->eof))
        bits |= HAL_NET_READABLE;
      if (s->want_write && s->pcb && !s->failed && !s->send_blocked && tcp_sndbuf(s->pcb) > 0 &&
          tcp_sndqueuelen(s->pcb) < TCP_SND_QUEUELEN)
        bits |= HAL_NET_WRITABLE;
    }
    s->ready = bits;
    ready += bits != 0;
  }
  return ready;
}
