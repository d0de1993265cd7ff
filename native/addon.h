/* The one addon (pump.node): the module's entry (addon.c) asks each source file for its functions. */
#ifndef LAPLINK_ADDON_H
#define LAPLINK_ADDON_H
#include <node_api.h>

void pump_define(napi_env env, napi_value exports);
void syscalls_define(napi_env env, napi_value exports);
void tls_define(napi_env env, napi_value exports);

#endif
