/* lwIP build options for the Cohesix seL4 hive: NO_SYS raw API, IPv4 + TCP over Ethernet, every pool bounded by a named constant. */
#ifndef COHESIX_LWIPOPTS_H
#define COHESIX_LWIPOPTS_H

/* ---- Our bounds (the names lwIP's options below are set from) ----
   The sockets the HAL may hold: bindings/limits.h NET_SOCKETS_MAX and NET_LISTENERS_MAX; kept in sync,
   checked by sel4-platform/net/virtio_netif.c at compile time. */
#define COHESIX_LWIP_TCP_PCBS 64
#define COHESIX_LWIP_TCP_LISTENERS 8
/* Frames of received data lwIP may hold at once (pool pbufs): two per receive descriptor of the
   virtio-net queue (VIRTIO_NET_RX_BUFS = 32), so one full ring can be in the stack while the next fills. */
#define COHESIX_LWIP_RX_POOL_FRAMES 64
/* Heap for transmit segments (tcp_write copies into it) and ARP queueing. When it is full tcp_write
   says ERR_MEM: the HAL reports that as a full send buffer (back-pressure), never as loss. */
#define COHESIX_LWIP_HEAP_BYTES (256 * 1024)
/* Per-connection send buffer: 16 full segments (23 KiB; TCP_SND_BUF is 16 bits without window scaling). */
#define COHESIX_LWIP_SEND_BUFFER_SEGMENTS 16
/* Receive window: 4 full segments; a console line or a 9P frame (msize 8 KiB) fits twice. */
#define COHESIX_LWIP_RECEIVE_WINDOW_SEGMENTS 4
/* Queued TCP segments for all connections together. */
#define COHESIX_LWIP_TCP_SEGMENTS 256
/* ARP entries: QEMU user networking shows us one gateway; a few more for a tap or a real LAN. */
#define COHESIX_LWIP_ARP_ENTRIES 8

/* ---- The system: one thread, no OS ---- */
#define NO_SYS 1
#define SYS_LIGHTWEIGHT_PROT 0   /* nothing preempts the pump: lwIP runs only from it */
#define LWIP_TIMERS 1            /* sys_check_timeouts from the pump's deadline */
#define LWIP_NETCONN 0
#define LWIP_SOCKET 0
#define LWIP_NETIF_API 0
#define LWIP_ALTCP 0
#define LWIP_SINGLE_NETIF 1

/* ---- Memory: static pools only (MEMP_MEM_MALLOC and MEM_LIBC_MALLOC off), so every limit is above ---- */
#define MEM_LIBC_MALLOC 0
#define MEMP_MEM_MALLOC 0
#define MEM_ALIGNMENT 8
#define MEM_SIZE COHESIX_LWIP_HEAP_BYTES
#define MEMP_NUM_PBUF 32         /* PBUF_REF/ROM headers: ARP and ICMP replies */
#define MEMP_NUM_RAW_PCB 0
#define MEMP_NUM_UDP_PCB 0
#define MEMP_NUM_TCP_PCB COHESIX_LWIP_TCP_PCBS
#define MEMP_NUM_TCP_PCB_LISTEN COHESIX_LWIP_TCP_LISTENERS
#define MEMP_NUM_TCP_SEG COHESIX_LWIP_TCP_SEGMENTS
#define MEMP_NUM_ARP_QUEUE 16
#define PBUF_POOL_SIZE COHESIX_LWIP_RX_POOL_FRAMES
/* A pool pbuf holds one whole frame (1514 bytes + alignment), so a received frame is one pbuf. */
#define PBUF_POOL_BUFSIZE 1536

/* ---- Protocols ---- */
#define LWIP_IPV4 1
#define LWIP_IPV6 0
#define LWIP_ARP 1
#define LWIP_ETHERNET 1
#define ARP_TABLE_SIZE COHESIX_LWIP_ARP_ENTRIES
#define ARP_QUEUEING 1
#define ETHARP_SUPPORT_STATIC_ENTRIES 0
#define IP_FORWARD 0
#define IP_REASSEMBLY 0          /* TCP segments fit the MTU; fragments are dropped, not buffered */
#define IP_FRAG 0
#define LWIP_ICMP 1              /* ping answers: the first thing an operator tries */
#define LWIP_RAW 0
#define LWIP_UDP 0               /* static address from the board manifest: no DHCP, no DNS */
#define LWIP_DHCP 0
#define LWIP_AUTOIP 0
#define LWIP_IGMP 0
#define LWIP_DNS 0
#define LWIP_TCP 1
#define TCP_MSS 1460
#define TCP_WND (COHESIX_LWIP_RECEIVE_WINDOW_SEGMENTS * TCP_MSS)
#define TCP_SND_BUF (COHESIX_LWIP_SEND_BUFFER_SEGMENTS * TCP_MSS)
#define TCP_SND_QUEUELEN ((4 * TCP_SND_BUF + TCP_MSS - 1) / TCP_MSS)
#define TCP_QUEUE_OOSEQ 0        /* out-of-order segments are dropped and resent: no per-connection buffer to bound */
#define TCP_LISTEN_BACKLOG 1     /* each listener's pending connections are bounded (tcp_backlog_delayed) */
#define LWIP_TCP_KEEPALIVE 1     /* built in so the HAL can turn it on per connection: a vanished peer's handle then closes */
#define LWIP_CALLBACK_API 1
#define SO_REUSE 1               /* SOF_REUSEADDR: a listener re-opens while its old connections live (net_sockets.c) */

/* ---- Checksums: no offload was negotiated with the device, so lwIP does them all ---- */
#define CHECKSUM_GEN_IP 1
#define CHECKSUM_GEN_TCP 1
#define CHECKSUM_GEN_ICMP 1
#define CHECKSUM_CHECK_IP 1
#define CHECKSUM_CHECK_TCP 1
#define CHECKSUM_CHECK_ICMP 1
#define LWIP_CHKSUM_ALGORITHM 3

/* ---- What we do not carry ---- */
#define LWIP_STATS 0
#define LWIP_NETIF_HOSTNAME 0
#define LWIP_NETIF_STATUS_CALLBACK 0
#define LWIP_NETIF_LINK_CALLBACK 0
#define LWIP_HAVE_LOOPIF 0
#define LWIP_NETIF_LOOPBACK 0
#define PPP_SUPPORT 0
/* LWIP_DEBUG stays undefined: lwIP tests it with #ifdef, so even "0" would turn its debug output on. */

#endif
