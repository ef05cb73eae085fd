/*
 * rlt-bench-floor: the physical floor of a command round trip through the broker.
 *
 * A minimal libmosquitto program that answers every message on CMD_TOPIC by publishing the same
 * bytes on RES_TOPIC (both QoS 1, like the gateway's contract) and does nothing else: no parsing,
 * no state, no GPIO. Whatever the gateway adds on top of this is the gateway's own cost.
 *
 *   rlt-bench-floor HOST PORT CMD_TOPIC RES_TOPIC STATUS_TOPIC
 *
 * It publishes a retained "online" on STATUS_TOPIC once subscribed (with an LWT saying offline),
 * so its start-up can be timed the same way as the gateway's.
 */
#include <mosquitto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *cmd_topic, *res_topic, *status_topic;
static volatile sig_atomic_t stopping = 0;

static void on_connect(struct mosquitto *m, void *user, int rc) {
    (void)user;
    if (rc != 0) return;
    mosquitto_subscribe(m, NULL, cmd_topic, 1);
    const char *online = "{\"state\":\"online\"}";
    mosquitto_publish(m, NULL, status_topic, (int)strlen(online), online, 1, true);
}

static void on_message(struct mosquitto *m, void *user, const struct mosquitto_message *msg) {
    (void)user;
    mosquitto_publish(m, NULL, res_topic, msg->payloadlen, msg->payload, 1, false);
}

static void on_signal(int sig) {
    (void)sig;
    stopping = 1;
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: rlt-bench-floor HOST PORT CMD_TOPIC RES_TOPIC STATUS_TOPIC\n");
        return 64;
    }
    cmd_topic = argv[3];
    res_topic = argv[4];
    status_topic = argv[5];
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    mosquitto_lib_init();
    struct mosquitto *m = mosquitto_new("rlt-bench-floor", true, NULL);
    if (!m) return 2;
    mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1);
    const char *offline = "{\"state\":\"offline\"}";
    mosquitto_will_set(m, status_topic, (int)strlen(offline), offline, 1, true);
    mosquitto_connect_callback_set(m, on_connect);
    mosquitto_message_callback_set(m, on_message);
    if (mosquitto_connect(m, argv[1], atoi(argv[2]), 10) != MOSQ_ERR_SUCCESS) {
        fprintf(stderr, "rlt-bench-floor: cannot connect\n");
        return 2;
    }
    while (!stopping) {
        int rc = mosquitto_loop(m, 1000, 1);
        if (rc != MOSQ_ERR_SUCCESS && !stopping) mosquitto_reconnect(m);
    }
    mosquitto_disconnect(m);
    mosquitto_destroy(m);
    mosquitto_lib_cleanup();
    return 0;
}
