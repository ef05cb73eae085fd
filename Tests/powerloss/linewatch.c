/* The power-loss check's line watcher (runs in the qemu guest, built by run.sh).
 *
 * usage: linewatch SIMDIR TTY LINE...
 *
 * Polls the gpio-sim sysfs value of each LINE (SIMDIR/sim_gpio<N>/value, the physical level) every
 * 200 µs and writes `L <guest monotonic ns> <level>...` to TTY (raw) whenever one changes, and once at
 * start. The host stamps each report when it arrives, in the same thread and on the same clock as the
 * disk's writes and flushes. Output lines of gpio-sim raise no edge events for other requesters,
 * so polling is the only way to see what the lines did rather than what the daemon meant to do.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 4 || argc > 10) {
        fprintf(stderr, "usage: linewatch SIMDIR TTY LINE...\n");
        return 2;
    }
    int count = argc - 3;
    int fds[8];
    char last[8];
    for (int i = 0; i < count; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/sim_gpio%s/value", argv[1], argv[3 + i]);
        fds[i] = open(path, O_RDONLY);
        if (fds[i] < 0) { perror(path); return 1; }
        last[i] = '?';
    }
    int tty = open(argv[2], O_WRONLY | O_NOCTTY);
    if (tty < 0) { perror(argv[2]); return 1; }
    struct termios raw;
    if (tcgetattr(tty, &raw) == 0) {
        cfmakeraw(&raw);
        cfsetospeed(&raw, B115200);
        tcsetattr(tty, TCSANOW, &raw);
    }
    struct timespec pause = {0, 200000};
    for (;;) {
        char now[8];
        int changed = 0;
        for (int i = 0; i < count; i++) {
            char c = '?';
            if (pread(fds[i], &c, 1, 0) != 1) c = '?';
            now[i] = c;
            if (c != last[i]) changed = 1;
        }
        if (changed) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            char line[128];
            int n = snprintf(line, sizeof line, "L %lld", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
            for (int i = 0; i < count; i++) n += snprintf(line + n, sizeof line - n, " %c", now[i]);
            n += snprintf(line + n, sizeof line - n, "\n");
            if (write(tty, line, n) != n) return 1;
            memcpy(last, now, count);
        }
        nanosleep(&pause, NULL);
    }
}
