#ifndef RLT_CGPIOD_SHIM_H
#define RLT_CGPIOD_SHIM_H
#include <gpiod.h>
#endif
