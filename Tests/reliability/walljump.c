// LD_PRELOAD shim for the wall-clock-jump scenario: adds the whole seconds written in the file
// named by RLT_WALL_OFFSET_FILE to CLOCK_REALTIME (clock_gettime, gettimeofday, time), and leaves
// CLOCK_MONOTONIC alone. The file is re-read at most every 20 ms, so a test can jump the daemon's
// wall clock forwards and backwards while it runs. (libfaketime 0.9.10 empties Swift's
// CommandLine.arguments, so the suite brings this small shim instead.)
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);

static clock_gettime_fn real_clock_gettime(void) {
    static clock_gettime_fn real;
    if (!real) real = (clock_gettime_fn)dlsym(RTLD_NEXT, "clock_gettime");
    return real;
}

static long long offset_seconds(void) {
    static long long cached;
    static long long read_at_ns = -1;
    struct timespec now;
    real_clock_gettime()(CLOCK_MONOTONIC, &now);
    long long now_ns = (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
    if (read_at_ns >= 0 && now_ns - read_at_ns < 20000000LL) return cached;
    read_at_ns = now_ns;
    const char *path = getenv("RLT_WALL_OFFSET_FILE");
    FILE *file = path ? fopen(path, "r") : NULL;
    if (!file) return cached;
    long long value = 0;
    if (fscanf(file, "%lld", &value) == 1) cached = value;
    fclose(file);
    return cached;
}

int clock_gettime(clockid_t clock, struct timespec *time) {
    int rc = real_clock_gettime()(clock, time);
    if (rc == 0 && (clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_COARSE)) time->tv_sec += offset_seconds();
    return rc;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz) {
    (void)tz;
    struct timespec now;
    int rc = clock_gettime(CLOCK_REALTIME, &now);
    if (rc == 0) {
        tv->tv_sec = now.tv_sec;
        tv->tv_usec = now.tv_nsec / 1000;
    }
    return rc;
}

time_t time(time_t *out) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    if (out) *out = now.tv_sec;
    return now.tv_sec;
}
