/* cohesix-sim: the host firmware; loads and verifies a hive image and runs it as a Linux/macOS process. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "boot.h"
#include "engine_id.h"
#include "hal_posix.h"
#include "image.h"
#include "image_sig.h"
#include "online.h"
#include "slots_posix.h"

#define SIM_DEFAULT_CONSOLE_PORT 31337
#define SIM_DEFAULT_9P_PORT 5640
#define SIM_DEFAULT_BIND "127.0.0.1"
#define SIM_DEFAULT_AUTH_TOKEN "changeme"
#define SIM_ARG_BYTES_MAX 200u
#define SIM_ROOT_ARGS_BYTES_MAX 1024u
/* With --slots, a new image that is not online within this bound stops the firmware (the watchdog),
   so the next boot falls back to the last good slot. */
#define SIM_ONLINE_TIMEOUT_MS_DEFAULT 30000L
#define SIM_ONLINE_TIMEOUT_MS_MAX 3600000L
/* Exit status when the online watchdog fired. */
#define SIM_EXIT_NOT_ONLINE 3
#define SIM_PATH_BYTES_MAX (SLOTS_DIR_BYTES_MAX + 16u)

static void usage(FILE *f) {
  fprintf(f,
          "usage: cohesix-sim (--image <file> | --slots <dir> | --slot-disk <file> [--image <factory>]) [--trust-key <file>] [--online-timeout-ms N]\n"
          "                   [--uart stdio|pty|none] [--console-port N] [--9p-port N] [--bind ADDR] [--auth-token TOKEN]\n"
          "                   [--spin-us N]\n"
          "\n"
          "  --image FILE        hive image (CPIO) to verify and boot\n"
          "  --slots DIR         boot from A/B slots: DIR/A.img, DIR/B.img and DIR/state (docs/slots.md)\n"
          "  --slot-disk FILE    boot from A/B slots on a disk image or block device (docs/slots.md \"On a disk\");\n"
          "                      with --image, that image is the factory image used when no slot boots\n"
          "  --trust-key FILE    public key (cohimg keygen) every image must be signed by; release images need it\n"
          "  --online-timeout-ms N  with --slots: a new image not online by then stops the firmware (default %ld)\n"
          "  --uart MODE         UART console on stdio (default), a new pty, or none\n"
          "  --console-port N    TCP console port (default %d; 0 picks a free port)\n"
          "  --9p-port N         Secure9P TCP port when the manifest enables it (default %d; 0 = off)\n"
          "  --bind ADDR         address the listeners bind (default %s: loopback only)\n"
          "  --auth-token TOKEN  console AUTH token (default %s)\n"
          "  --spin-us N         after input, poll up to N µs before sleeping (default %u; 0 = never, max %u)\n"
          "  --version           print the engine version and fingerprint\n",
          SIM_ONLINE_TIMEOUT_MS_DEFAULT, SIM_DEFAULT_CONSOLE_PORT, SIM_DEFAULT_9P_PORT, SIM_DEFAULT_BIND, SIM_DEFAULT_AUTH_TOKEN,
          HAL_SPIN_US_DEFAULT, HAL_SPIN_US_MAX);
}

static void on_signal(int sig) {
  (void)sig;
  firmware_stop();
  hal_posix_wake();
}

static volatile sig_atomic_t g_watchdog_fired;

static void on_watchdog(int sig) {
  (void)sig;
  g_watchdog_fired = 1;
  firmware_stop();
  hal_posix_wake();
}

static void watchdog_arm(long ms) {
  struct itimerval it;
  memset(&it, 0, sizeof it);
  it.it_value.tv_sec = ms / 1000;
  it.it_value.tv_usec = (ms % 1000) * 1000;
  setitimer(ITIMER_REAL, &it, NULL);
}

/* What the online hook needs to confirm the booted slot. */
typedef struct SlotsRun {
  SlotStore store;
  SlotBoot boot;
} SlotsRun;

static void on_online(void *ctx) {
  SlotsRun *run = ctx;
  watchdog_arm(0);
  if (!run) return;
  char err[512];
  int was_trial = run->boot.trial;
  if (slots_confirm(&run->store, &run->boot, err, sizeof err) < 0) {
    fprintf(stderr, "[firmware] %s\n", err);
    return;
  }
  if (was_trial) fprintf(stderr, "[firmware] slots: slot %c reached online: it is now the last good slot\n", slot_name(run->boot.slot));
  sim_kill_point("online-confirmed");
}

static int read_text_file(const char *path, char *buf, size_t cap, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, cap);
  int e = errno;
  close(fd);
  errno = e;
  if (n < 0) return -1;
  *len = (size_t)n;
  return 0;
}

static uint8_t *read_image(const char *path, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    fprintf(stderr, "cohesix-sim: cannot open image %s: %s\n", path, strerror(errno));
    return NULL;
  }
  uint8_t *buf = malloc(IMAGE_BYTES_MAX + 1);
  size_t n = 0;
  while (buf && n <= IMAGE_BYTES_MAX) {
    ssize_t r = read(fd, buf + n, IMAGE_BYTES_MAX + 1 - n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    n += (size_t)r;
  }
  close(fd);
  if (!buf) return NULL;
  if (n > IMAGE_BYTES_MAX) {
    fprintf(stderr, "cohesix-sim: image %s is larger than %u bytes\n", path, IMAGE_BYTES_MAX);
    free(buf);
    return NULL;
  }
  *len = n;
  return buf;
}

/* Copies s into out as a JSON string body, escaping what JSON requires. Returns -1 if it does not fit. */
static int json_escape(const char *s, char *out, size_t cap) {
  size_t o = 0;
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    char tmp[8];
    const char *piece = tmp;
    if (c == '"' || c == '\\') snprintf(tmp, sizeof tmp, "\\%c", c);
    else if (c < 0x20) snprintf(tmp, sizeof tmp, "\\u%04x", c);
    else {
      tmp[0] = (char)c;
      tmp[1] = 0;
    }
    size_t l = strlen(piece);
    if (o + l >= cap) return -1;
    memcpy(out + o, piece, l);
    o += l;
  }
  out[o] = 0;
  return 0;
}

static int parse_port(const char *flag, const char *v, long *out) {
  char *end;
  errno = 0;
  long p = strtol(v, &end, 10);
  if (errno || *end || p < 0 || p > 65535) {
    fprintf(stderr, "cohesix-sim: %s needs a port 0..65535, got '%s'\n", flag, v);
    return -1;
  }
  *out = p;
  return 0;
}

int main(int argc, char **argv) {
  const char *image = NULL, *uart = "stdio", *bind = SIM_DEFAULT_BIND, *token = SIM_DEFAULT_AUTH_TOKEN;
  const char *slots_dir = NULL, *trust_key = NULL, *slot_disk = NULL;
  unsigned long spin_us = HAL_SPIN_US_DEFAULT;
  int spin_given = 0;
  long console_port = SIM_DEFAULT_CONSOLE_PORT, ninep_port = SIM_DEFAULT_9P_PORT, online_timeout_ms = SIM_ONLINE_TIMEOUT_MS_DEFAULT;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      return 0;
    } else if (!strcmp(a, "--version")) {
      printf("cohesix-sim: quickjs-ng %s, engine fingerprint %s\n", engine_id()->version, engine_id()->fingerprint_hex);
      return 0;
    } else if (!v) {
      fprintf(stderr, "cohesix-sim: %s needs a value\n", a);
      usage(stderr);
      return 2;
    } else if (!strcmp(a, "--image")) image = v;
    else if (!strcmp(a, "--slots")) slots_dir = v;
    else if (!strcmp(a, "--slot-disk")) slot_disk = v;
    else if (!strcmp(a, "--trust-key")) trust_key = v;
    else if (!strcmp(a, "--online-timeout-ms")) {
      char *end;
      errno = 0;
      online_timeout_ms = strtol(v, &end, 10);
      if (errno || *end || online_timeout_ms < 1 || online_timeout_ms > SIM_ONLINE_TIMEOUT_MS_MAX) {
        fprintf(stderr, "cohesix-sim: --online-timeout-ms needs 1..%ld, got '%s'\n", SIM_ONLINE_TIMEOUT_MS_MAX, v);
        return 2;
      }
    }
    else if (!strcmp(a, "--spin-us")) {
      /* Digits only (strtoul alone would take a sign or leading blanks), at most five of them. */
      size_t digits = strspn(v, "0123456789");
      spin_us = digits >= 1 && digits <= 5 && !v[digits] ? strtoul(v, NULL, 10) : HAL_SPIN_US_MAX + 1ul;
      spin_given = 1;
      if (spin_us > HAL_SPIN_US_MAX) {
        fprintf(stderr, "cohesix-sim: --spin-us needs 0..%u, got '%s'\n", HAL_SPIN_US_MAX, v);
        return 2;
      }
    }
    else if (!strcmp(a, "--uart")) uart = v;
    else if (!strcmp(a, "--bind")) bind = v;
    else if (!strcmp(a, "--auth-token")) token = v;
    else if (!strcmp(a, "--console-port")) {
      if (parse_port(a, v, &console_port) < 0) return 2;
    } else if (!strcmp(a, "--9p-port")) {
      if (parse_port(a, v, &ninep_port) < 0) return 2;
    } else {
      fprintf(stderr, "cohesix-sim: unknown option '%s'\n", a);
      usage(stderr);
      return 2;
    }
    i++;
  }
  if (slot_disk ? slots_dir != NULL : !image == !slots_dir) {
    fprintf(stderr, "cohesix-sim: give exactly one of --image and --slots (or --slot-disk, with --image as its factory image)\n");
    usage(stderr);
    return 2;
  }
  if (trust_key) {
    char text[IMAGE_PUBKEY_FILE_BYTES_MAX], kerr[300];
    size_t klen = 0;
    uint8_t key[IMAGE_SIG_KEY_BYTES];
    if (read_text_file(trust_key, text, sizeof text, &klen) < 0) {
      fprintf(stderr, "cohesix-sim: cannot read trusted key %s: %s\n", trust_key, strerror(errno));
      return 1;
    }
    if (image_pubkey_parse(text, klen, key, kerr, sizeof kerr) < 0) {
      fprintf(stderr, "cohesix-sim: trusted key %s: %s\n", trust_key, kerr + strlen("image: "));
      return 1;
    }
    firmware_trust_key(key);
  }
  if (strcmp(uart, "stdio") && strcmp(uart, "pty") && strcmp(uart, "none")) {
    fprintf(stderr, "cohesix-sim: --uart must be stdio, pty or none\n");
    return 2;
  }
  char bind_esc[SIM_ARG_BYTES_MAX], token_esc[SIM_ARG_BYTES_MAX];
  if (json_escape(bind, bind_esc, sizeof bind_esc) < 0 || json_escape(token, token_esc, sizeof token_esc) < 0) {
    fprintf(stderr, "cohesix-sim: --bind or --auth-token is too long\n");
    return 2;
  }

  if (!strcmp(uart, "pty")) {
    char pty[SIM_ARG_BYTES_MAX];
    if (hal_posix_init_pty(pty, sizeof pty) != 0) {
      fprintf(stderr, "cohesix-sim: cannot open a pty: %s\n", strerror(errno));
      return 1;
    }
    fprintf(stderr, "uart pty=%s\n", pty);
  } else if (!strcmp(uart, "stdio")) {
    hal_posix_init(0, 1);
  } else {
    hal_posix_init(-1, -1);
  }
  if (hal_posix_set_spin_us((uint32_t)spin_us) == 0 && spin_us > 0 && spin_given)
    fprintf(stderr, "cohesix-sim: fewer than two CPUs to run on (affinity or cgroup quota): --spin-us %lu is off\n", spin_us);

  char root_args[SIM_ROOT_ARGS_BYTES_MAX];
  snprintf(root_args, sizeof root_args,
           "{\"console\":{\"port\":%ld,\"bind\":\"%s\",\"auth_token\":\"%s\"},\"ninep\":{\"port\":%ld},\"uart\":\"%s\"}",
           console_port, bind_esc, token_esc, ninep_port, uart);

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal; /* no SA_RESTART: ppoll returns EINTR and the pump sees the stop flag */
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sa.sa_handler = on_watchdog;
  sigaction(SIGALRM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  char err[512];
  size_t len = 0;
  uint8_t *img = NULL;
  static SlotsPosix posix;
  static SlotsRun run;
  char slot_path[SIM_PATH_BYTES_MAX];
  static SlotsDiskPosix disk;
  if (slot_disk) {
    const char *factory = image;
    char why[700] = "";
    int booted = 0;
    if (slots_disk_posix_open(&disk, slot_disk, &run.store, err, sizeof err) < 0) {
      snprintf(why, sizeof why, "%s", err);
    } else {
      if (disk.disk.why[0]) fprintf(stderr, "[firmware] slots: %s\n", disk.disk.why);
      if (slots_plan(&run.store, &run.boot, err, sizeof err) < 0) {
        snprintf(why, sizeof why, "%s", err);
      } else {
        fprintf(stderr, "[firmware] slots: %s\n", run.boot.why);
        sim_kill_point("attempt-recorded");
        for (;;) {
          len = disk.disk.image_bytes[run.boot.slot];
          img = malloc(len ? len : 1);
          char reason[600] = "cannot read the image";
          if (img && slot_disk_read_image(&disk.disk, run.boot.slot, 0, img, len, err, sizeof err) == 0 &&
              firmware_boot(img, len, root_args, err, sizeof err) == 0) {
            booted = 1;
            break;
          }
          if (img) snprintf(reason, sizeof reason, "%s", err);
          fprintf(stderr, "cohesix-sim: %s slot %c: %s\n", slot_disk, slot_name(run.boot.slot), reason);
          free(img);
          img = NULL;
          if (slots_refused(&run.store, &run.boot, reason, err, sizeof err) < 0) {
            snprintf(why, sizeof why, "%s", err);
            break;
          }
          fprintf(stderr, "[firmware] slots: %s\n", run.boot.why);
        }
      }
    }
    if (booted) {
      firmware_on_online(on_online, &run);
      slots_disk_posix_serve(&disk, &run.store, run.boot.slot);
      if (run.boot.trial) watchdog_arm(online_timeout_ms);
      sim_kill_point("booted");
    } else {
      /* No slot boots: the factory image (on seL4, the one linked into the root task), with the reason. */
      if (!factory) {
        fprintf(stderr, "cohesix-sim: %s\n", why);
        return 1;
      }
      fprintf(stderr, "[firmware] slots: %s: booting the factory image %s\n", why, factory);
      img = read_image(factory, &len);
      if (!img) return 1;
      if (firmware_boot(img, len, root_args, err, sizeof err) < 0) {
        fprintf(stderr, "cohesix-sim: %s: %s\n", factory, err);
        free(img);
        return 1;
      }
    }
  } else if (slots_dir) {
    if (slots_posix_init(&posix, slots_dir, &run.store) < 0) {
      fprintf(stderr, "cohesix-sim: --slots path is longer than %u bytes\n", SLOTS_DIR_BYTES_MAX);
      return 2;
    }
    if (slots_plan(&run.store, &run.boot, err, sizeof err) < 0) {
      fprintf(stderr, "cohesix-sim: %s\n", err);
      return 1;
    }
    fprintf(stderr, "[firmware] slots: %s\n", run.boot.why);
    sim_kill_point("attempt-recorded");
    /* A refused image costs one more pick: bounded by the two slots (slots_refused never retries one). */
    for (;;) {
      slots_posix_image_path(&posix, run.boot.slot, slot_path, sizeof slot_path);
      image = slot_path;
      img = read_image(image, &len);
      if (img && firmware_boot(img, len, root_args, err, sizeof err) == 0) break;
      char reason[600];
      snprintf(reason, sizeof reason, "%s", img ? err : "cannot read the image");
      fprintf(stderr, "cohesix-sim: %s: %s\n", image, reason);
      free(img);
      img = NULL;
      if (slots_refused(&run.store, &run.boot, reason, err, sizeof err) < 0) {
        fprintf(stderr, "cohesix-sim: %s\n", err);
        return 1;
      }
      fprintf(stderr, "[firmware] slots: %s\n", run.boot.why);
    }
    firmware_on_online(on_online, &run);
    slots_posix_serve(&posix, &run.store, run.boot.slot);
    if (run.boot.trial) watchdog_arm(online_timeout_ms);
    sim_kill_point("booted");
  } else {
    img = read_image(image, &len);
    if (!img) return 1;
    if (firmware_boot(img, len, root_args, err, sizeof err) < 0) {
      fprintf(stderr, "cohesix-sim: %s: %s\n", image, err);
      free(img);
      return 1;
    }
  }
  int rc = firmware_run();
  if (g_watchdog_fired && !firmware_is_online()) {
    char to[32] = " (no slot is known good)";
    if (run.boot.state.last_good != SLOT_NONE) snprintf(to, sizeof to, " to slot %c", slot_name(run.boot.state.last_good));
    fprintf(stderr, "cohesix-sim: slot %c did not reach online within %ld ms: stopping; the next boot falls back%s\n",
            slot_name(run.boot.slot), online_timeout_ms, to);
    free(img);
    return SIM_EXIT_NOT_ONLINE;
  }
  if (sim_restart_requested()) {
    /* An installed update asked for a reset: the host's stand-in is to run this program afresh in
       the same process (same pid, same arguments), so the boot reads the state record and tries the
       new slot exactly as a board reset would. Sockets are close-on-exec: the ports are free again. */
    fprintf(stderr, "cohesix-sim: restarting into the updated slot (re-exec, pid %ld)\n", (long)getpid());
    fflush(NULL);
    free(img);
    sim_kill_point("restart");
    execv("/proc/self/exe", argv);
    execvp(argv[0], argv);
    fprintf(stderr, "cohesix-sim: cannot re-execute %s: %s; the next start boots the updated slot\n", argv[0], strerror(errno));
    return 1;
  }
  fprintf(stderr, "cohesix-sim: stopped%s\n", rc ? " (root-task fault)" : "");
  free(img);
  return rc;
}
