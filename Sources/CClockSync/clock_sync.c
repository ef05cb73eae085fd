#include "CClockSync.h"

#include <sys/timex.h>

int rlt_wall_clock_synchronised(void) {
    struct timex tx = {0};
    int state = adjtimex(&tx);
    if (state == -1 || state == TIME_ERROR) return 0;
    if (tx.status & STA_UNSYNC) return 0;
    return tx.maxerror < 16000000L;
}
