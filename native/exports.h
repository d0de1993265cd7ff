/* What the source files of the one addon (pump.node) share: adding their functions to the
 * module's exports, starting their background thread, and the keys of their epoll events. */
#ifndef LAPLINK_EXPORTS_H
#define LAPLINK_EXPORTS_H
#include <node_api.h>

#include <stddef.h>
#include <stdint.h>

typedef struct {
  const char *name;
  napi_callback fn;
} addon_function;

/* Adds each function to `exports` under its name. */
void define_functions(napi_env env, napi_value exports, const addon_function *fns, size_t count);

/* Starts `worker` on a detached thread with `stack` bytes of stack; pthread_create's result. */
int start_worker(void *(*worker)(void *), size_t stack);

/* An epoll event's key: side `side` (0 or 1) of slot `slot` in generation `gen`. The generation
 * tells an event for a slot freed and reused since from one for its present user. */
static inline uint64_t event_key(uint32_t slot, uint32_t gen, int side) { return ((uint64_t)gen << 32) | (slot << 1) | (uint32_t)side; }
static inline uint32_t key_slot(uint64_t key) { return (uint32_t)(key & 0xffffffffu) >> 1; }
static inline uint32_t key_gen(uint64_t key) { return (uint32_t)(key >> 32); }
static inline int key_side(uint64_t key) { return (int)(key & 1); }

#endif
