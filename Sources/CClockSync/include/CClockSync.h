#ifndef RLT_CCLOCKSYNC_H
#define RLT_CCLOCKSYNC_H

/// 1 when the kernel reports the wall clock synchronised: `adjtimex` read-only, no `TIME_ERROR`,
/// `STA_UNSYNC` clear and a maximum error below 16 s (the test `timedatectl` uses). NTP daemons
/// (systemd-timesyncd, chrony, ntpd) clear `STA_UNSYNC` once they discipline the clock; setting the
/// time by hand (`date -s`) sets it again. 0 otherwise, and on any error.
int rlt_wall_clock_synchronised(void);

#endif
