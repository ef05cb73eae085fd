#ifndef RLT_CMOSQUITTO_SHIM_H
#define RLT_CMOSQUITTO_SHIM_H
#include <mosquitto.h>
#include <mqtt_protocol.h>
#endif
