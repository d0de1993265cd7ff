/* How each source file of the one addon (pump.node) adds its functions to the module's exports. */
#ifndef LAPLINK_EXPORTS_H
#define LAPLINK_EXPORTS_H
#include <node_api.h>

#include <stddef.h>

typedef struct {
  const char *name;
  napi_callback fn;
} addon_function;

/* Adds each function to `exports` under its name. */
void define_functions(napi_env env, napi_value exports, const addon_function *fns, size_t count);

#endif
