/*
 * rlt-bench-client: the load generator and stopwatch of Benchmarks/run.
 *
 * Written in C on libmosquitto so the measuring side adds as little as possible to what it
 * measures: one thread, no allocation per message, CLOCK_MONOTONIC on both ends of every hop.
 *
 *   rtt HOST PORT CMD_TOPIC RES_TOPIC COUNT OUTFILE TEMPLATE...
 *       Closed loop: publish one command (QoS 1), wait for the response carrying its id, repeat.
 *       TEMPLATEs are cycled; each holds one %s for a fresh id. OUTFILE gets one line per command:
 *       "template_index latency_ns ok" (latency -1 when no answer came within 3 s = lost).
 *   flood HOST PORT CMD_TOPIC RATE SECONDS
 *       Open loop: RATE commands/s (QoS 0), a mix of malformed, invalid and valid ones.
 *   throughput HOST PORT CMD_TOPIC RES_TOPIC RATE SECONDS TEMPLATE
 *       Open loop at RATE commands/s (QoS 1); prints JSON with the backlog (sent - answered)
 *       sampled every 100 ms, and how long the answers took to drain after the last send.
 *   watch SENSOR_FILE VALUE_FILE MILLIDEGREES
 *       Writes MILLIDEGREES into SENSOR_FILE (through a rename, as a sensor driver would produce
 *       it whole), then waits (inotify) until VALUE_FILE reads 0. Prints "write_ns off_ns".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <mosquitto.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_until(int64_t deadline) {
    struct timespec ts = {.tv_sec = deadline / 1000000000LL, .tv_nsec = deadline % 1000000000LL};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}

/* ---- shared connection set-up ---- */

struct waiter {
    char expect[96];      /* the quoted id we are waiting for */
    volatile int got;
    int ok;
    atomic_long answered; /* throughput mode: responses seen */
};

static void on_message(struct mosquitto *m, void *user, const struct mosquitto_message *msg) {
    (void)m;
    struct waiter *w = user;
    atomic_fetch_add(&w->answered, 1);
    if (w->expect[0] == 0 || w->got) return;
    if (msg->payloadlen <= 0) return;
    /* Bounded search in the payload (not NUL-terminated). */
    const char *p = memmem(msg->payload, (size_t)msg->payloadlen, w->expect, strlen(w->expect));
    if (!p) return;
    w->ok = !(memmem(msg->payload, (size_t)msg->payloadlen, "\"ok\":false", 10) ||
              memmem(msg->payload, (size_t)msg->payloadlen, "\"ok\": false", 11));
    w->got = 1;
}

static struct mosquitto *connect_to(const char *host, int port, struct waiter *w, const char *sub) {
    char id[64];
    snprintf(id, sizeof id, "rlt-bench-%d-%lld", (int)getpid(), (long long)(now_ns() % 1000000));
    struct mosquitto *m = mosquitto_new(id, true, w);
    if (!m) { perror("mosquitto_new"); exit(2); }
    mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1);
    mosquitto_max_inflight_messages_set(m, 0); /* open-loop modes must not be throttled here */
    mosquitto_message_callback_set(m, on_message);
    if (mosquitto_connect(m, host, port, 30) != MOSQ_ERR_SUCCESS) { fprintf(stderr, "connect failed\n"); exit(2); }
    if (sub) {
        int mid = 0;
        mosquitto_subscribe(m, &mid, sub, 1);
        /* Let SUBACK arrive before the first command so no answer is missed. */
        for (int i = 0; i < 20; i++) mosquitto_loop(m, 10, 1);
    }
    return m;
}

/* ---- rtt ---- */

static int mode_rtt(int argc, char **argv) {
    if (argc < 8) return 64;
    const char *host = argv[2], *cmd = argv[4], *res = argv[5], *out = argv[7];
    int port = atoi(argv[3]);
    long count = atol(argv[6]);
    int ntemplates = argc - 8;
    char **templates = argv + 8;
    struct waiter w = {0};
    struct mosquitto *m = connect_to(host, port, &w, res);
    FILE *f = fopen(out, "w");
    if (!f) { perror(out); return 2; }
    char payload[1024], id[64];
    long lost = 0;
    for (long i = 0; i < count; i++) {
        int t = (int)(i % ntemplates);
        snprintf(id, sizeof id, "r%d-%ld", (int)getpid(), i);
        snprintf(payload, sizeof payload, templates[t], id);
        snprintf(w.expect, sizeof w.expect, "\"%s\"", id);
        w.got = 0;
        int64_t start = now_ns();
        mosquitto_publish(m, NULL, cmd, (int)strlen(payload), payload, 1, false);
        int64_t deadline = start + 3000000000LL;
        while (!w.got && now_ns() < deadline) {
            if (mosquitto_loop(m, 100, 1) != MOSQ_ERR_SUCCESS) mosquitto_reconnect(m);
        }
        int64_t end = now_ns();
        if (w.got) {
            fprintf(f, "%d %lld %d\n", t, (long long)(end - start), w.ok);
        } else {
            fprintf(f, "%d -1 0\n", t);
            lost++;
        }
    }
    fclose(f);
    mosquitto_disconnect(m);
    mosquitto_destroy(m);
    return lost ? 1 : 0;
}

/* ---- flood ---- */

static int mode_flood(int argc, char **argv) {
    if (argc < 7) return 64;
    const char *host = argv[2], *cmd = argv[4];
    int port = atoi(argv[3]);
    long rate = atol(argv[5]);
    double seconds = atof(argv[6]);
    struct waiter w = {0};
    struct mosquitto *m = connect_to(host, port, &w, NULL);
    mosquitto_loop_start(m);
    /* Malformed JSON, wrong schema, unknown command, out-of-range start, retained-looking junk,
       valid get / ping, and a well-formed but stale start (refused by the rate limiter or as
       stale, so the flood never starts a session of its own). */
    static const char *mix[] = {
        "{\"id\":\"f%ld\",\"cmd\":",
        "not json at all %ld",
        "{\"id\":\"f%ld\",\"cmd\":\"start\",\"args\":{\"duration_s\":-5}}",
        "{\"id\":\"f%ld\",\"cmd\":\"frobnicate\"}",
        "{\"id\":\"f%ld\",\"cmd\":\"get\",\"extra\":1}",
        "[%ld]",
        "{\"id\":\"f%ld\",\"cmd\":\"get\"}",
        "{\"id\":\"f%ld\",\"cmd\":\"ping\"}",
        "{\"id\":\"f%ld\",\"cmd\":\"start\",\"args\":{\"duration_s\":30},\"ts\":1000,\"ttl_ms\":1}",
    };
    const int nmix = (int)(sizeof mix / sizeof mix[0]);
    char payload[256];
    int64_t begin = now_ns(), end = begin + (int64_t)(seconds * 1e9);
    long sent = 0;
    const int64_t slot = 1000000; /* 1 ms slots */
    for (int64_t s = begin; s < end; s += slot) {
        long due = (long)((double)(s - begin + slot) / 1e9 * (double)rate);
        while (sent < due) {
            snprintf(payload, sizeof payload, mix[sent % nmix], (long)getpid() * 1000000L + sent);
            mosquitto_publish(m, NULL, cmd, (int)strlen(payload), payload, 0, false);
            sent++;
        }
        sleep_until(s + slot);
    }
    printf("{\"sent\":%ld,\"seconds\":%.3f}\n", sent, (double)(now_ns() - begin) / 1e9);
    mosquitto_disconnect(m);
    mosquitto_loop_stop(m, false);
    mosquitto_destroy(m);
    return 0;
}

/* ---- throughput ---- */

static int mode_throughput(int argc, char **argv) {
    if (argc < 9) return 64;
    const char *host = argv[2], *cmd = argv[4], *res = argv[5], *tmpl = argv[8];
    int port = atoi(argv[3]);
    long rate = atol(argv[6]);
    double seconds = atof(argv[7]);
    struct waiter w = {0};
    struct mosquitto *m = connect_to(host, port, &w, res);
    mosquitto_loop_start(m);
    atomic_store(&w.answered, 0);
    char payload[512], id[64];
    int64_t begin = now_ns(), end = begin + (int64_t)(seconds * 1e9);
    long sent = 0;
    const int64_t slot = 1000000;
    printf("{\"rate\":%ld,\"backlog\":[", rate);
    int64_t next_sample = begin + 100000000LL;
    int first = 1;
    for (int64_t s = begin; s < end; s += slot) {
        long due = (long)((double)(s - begin + slot) / 1e9 * (double)rate);
        while (sent < due) {
            snprintf(id, sizeof id, "t%d-%ld", (int)getpid(), sent);
            snprintf(payload, sizeof payload, tmpl, id);
            mosquitto_publish(m, NULL, cmd, (int)strlen(payload), payload, 1, false);
            sent++;
        }
        if (s >= next_sample) {
            printf("%s%ld", first ? "" : ",", sent - atomic_load(&w.answered));
            first = 0;
            next_sample += 100000000LL;
        }
        sleep_until(s + slot);
    }
    int64_t sent_end = now_ns();
    long answered_at_end = atomic_load(&w.answered);
    while (atomic_load(&w.answered) < sent && now_ns() - sent_end < 3000000000LL) usleep(200);
    int64_t drained = now_ns();
    printf("],\"sent\":%ld,\"answered_at_end\":%ld,\"answered\":%ld,\"drain_ms\":%.2f,\"seconds\":%.3f}\n", sent,
           answered_at_end, (long)atomic_load(&w.answered), (double)(drained - sent_end) / 1e6,
           (double)(sent_end - begin) / 1e9);
    mosquitto_disconnect(m);
    mosquitto_loop_stop(m, false);
    mosquitto_destroy(m);
    return 0;
}

/* ---- watch: sensor file write to output line off ---- */

static int read_level(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    int c = fgetc(f);
    fclose(f);
    return c == '0' ? 0 : (c == '1' ? 1 : -1);
}

static int mode_watch(int argc, char **argv) {
    if (argc < 5) return 64;
    const char *sensor = argv[2], *value = argv[3], *milli = argv[4];
    char dirbuf[PATH_MAX];
    snprintf(dirbuf, sizeof dirbuf, "%s", value);
    const char *dir = dirname(dirbuf);
    int fd = inotify_init1(IN_CLOEXEC);
    if (fd < 0 || inotify_add_watch(fd, dir, IN_MOVED_TO | IN_CLOSE_WRITE) < 0) { perror("inotify"); return 2; }
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s.tmp", sensor);
    FILE *f = fopen(tmp, "w");
    if (!f) { perror(tmp); return 2; }
    fprintf(f, "%s\n", milli);
    fclose(f);
    int64_t written = now_ns();
    if (rename(tmp, sensor) != 0) { perror("rename"); return 2; }
    int64_t off = -1;
    char buf[4096];
    int64_t deadline = written + 5000000000LL;
    while (now_ns() < deadline) {
        if (read_level(value) == 0) { off = now_ns(); break; }
        /* Block until the simulator rewrites something in the line's directory. */
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, 100) > 0 && read(fd, buf, sizeof buf) < 0 && errno != EINTR) break;
    }
    printf("%lld %lld\n", (long long)written, (long long)off);
    return off < 0 ? 1 : 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: rlt-bench-client rtt|flood|throughput|watch ...\n");
        return 64;
    }
    mosquitto_lib_init();
    int rc = 64;
    if (!strcmp(argv[1], "rtt")) rc = mode_rtt(argc, argv);
    else if (!strcmp(argv[1], "flood")) rc = mode_flood(argc, argv);
    else if (!strcmp(argv[1], "throughput")) rc = mode_throughput(argc, argv);
    else if (!strcmp(argv[1], "watch")) rc = mode_watch(argc, argv);
    if (rc == 64) fprintf(stderr, "bad arguments for %s\n", argv[1]);
    mosquitto_lib_cleanup();
    return rc;
}
