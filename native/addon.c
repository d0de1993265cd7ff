#include "addon.h"

NAPI_MODULE_INIT() {
  pump_define(env, exports);
  syscalls_define(env, exports);
  return exports;
}
