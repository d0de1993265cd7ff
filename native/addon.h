/* The one addon (pump.node): each source file adds its functions to the exports. */
#ifndef LAPLINK_ADDON_H
#define LAPLINK_ADDON_H
#include <node_api.h>

#include <stddef.h>

typedef struct {
  const char *name;
  napi_callback fn;
} addon_function;

/* Adds each function to `exports` under its name. */
void define_functions(napi_env env, napi_value exports, const addon_function *fns, size_t count);

void pump_define(napi_env env, napi_value exports);
void syscalls_define(napi_env env, napi_value exports);

#endif
