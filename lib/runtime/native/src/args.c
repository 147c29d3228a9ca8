#include "args.h"

napi_value throw_type_error(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

bool arg_typed(napi_env env, napi_value value, bool optional, View *out, const char *what) {
  out->data = NULL;
  out->length = 0;
  napi_valuetype kind;
  if (napi_typeof(env, value, &kind) != napi_ok) return false;
  if (optional && (kind == napi_null || kind == napi_undefined)) return true;
  bool is_typed = false;
  napi_is_typedarray(env, value, &is_typed);
  if (is_typed && napi_get_typedarray_info(env, value, &out->type, &out->length, &out->data, NULL, NULL) == napi_ok)
    return true;
  throw_type_error(env, what);
  return false;
}

bool arg_typed_of(napi_env env, napi_value value, napi_typedarray_type want, bool optional, View *out, const char *what) {
  if (!arg_typed(env, value, optional, out, what)) return false;
  if (out->data == NULL && optional) return true;
  if (out->type == want) return true;
  throw_type_error(env, what);
  return false;
}

bool arg_typed_4byte(napi_env env, napi_value value, View *out, const char *what) {
  if (!arg_typed(env, value, false, out, what)) return false;
  if (out->type == napi_float32_array || out->type == napi_int32_array || out->type == napi_uint32_array) return true;
  throw_type_error(env, what);
  return false;
}

bool arg_int(napi_env env, napi_value value, int64_t *out, const char *what) {
  if (napi_get_value_int64(env, value, out) == napi_ok && *out >= 0) return true;
  throw_type_error(env, what);
  return false;
}

bool arg_bool(napi_env env, napi_value value, bool *out, const char *what) {
  if (napi_get_value_bool(env, value, out) == napi_ok) return true;
  throw_type_error(env, what);
  return false;
}

bool arg_double(napi_env env, napi_value value, double *out, const char *what) {
  if (napi_get_value_double(env, value, out) == napi_ok) return true;
  throw_type_error(env, what);
  return false;
}

bool arg_dims(napi_env env, napi_value value, View *out, const char *what) {
  if (!arg_typed_of(env, value, napi_int32_array, false, out, what)) return false;
  const int32_t *dims = out->data;
  bool ok = out->length <= LEAF_MAX_RANK;
  for (size_t i = 0; ok && i < out->length; i++) ok = dims[i] >= 0;
  if (ok) return true;
  throw_type_error(env, what);
  return false;
}

bool get_args(napi_env env, napi_callback_info info, size_t expected, napi_value *argv, const char *name) {
  size_t argc = expected;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return false;
  if (argc == expected) return true;
  char message[96];
  snprintf(message, sizeof message, "%s expects %zu arguments", name, expected);
  throw_type_error(env, message);
  return false;
}

int64_t shape_size(const int32_t *shape, int rank) {
  int64_t size = 1;
  for (int i = 0; i < rank; i++) size *= shape[i];
  return size;
}

bool strided_fits(int64_t offset, const int32_t *shape, const int32_t *strides, int rank, size_t length) {
  if (shape_size(shape, rank) == 0) return offset >= 0;
  int64_t last = offset;
  for (int i = 0; i < rank; i++) last += (int64_t)(shape[i] - 1) * strides[i];
  return offset >= 0 && last < (int64_t)length;
}
