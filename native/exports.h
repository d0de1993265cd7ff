/* How each source file of the one addon (pump.node) adds its functions to the module's exports,
 * and starts its background thread. */
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

/* Starts `worker` on a detached thread with `stack` bytes of stack; pthread_create's result. */
int start_worker(void *(*worker)(void *), size_t stack);

#endif
