#include "exports.h"

void define_functions(napi_env env, napi_value exports, const addon_function *fns, size_t count) {
  for (size_t i = 0; i < count; i++) {
    napi_value fn;
    napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &fn);
    napi_set_named_property(env, exports, fns[i].name, fn);
  }
}
