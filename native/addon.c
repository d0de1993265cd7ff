#include "addon.h"

NAPI_MODULE_INIT() {
  pump_define(env, exports);
  syscalls_define(env, exports);
#ifndef LAPLINK_NO_TLS
  tls_define(env, exports);
#endif
  return exports;
}
