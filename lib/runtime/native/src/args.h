// Argument parsing shared by the addon's entry points. Every parser throws a JavaScript TypeError
// naming the argument and returns false, so callers can simply `return NULL`.
#ifndef LEAF_ARGS_H
#define LEAF_ARGS_H

#define NAPI_VERSION 8
#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

// Highest tensor rank a strided kernel accepts (tfjs itself stops at 6).
#define LEAF_MAX_RANK 8

typedef struct {
  void *data;
  size_t length;  // elements
  napi_typedarray_type type;
} View;

// Any typed array; `optional` accepts null/undefined as an empty view.
bool arg_typed(napi_env env, napi_value value, bool optional, View *out, const char *what);
// A typed array of one element type.
bool arg_typed_of(napi_env env, napi_value value, napi_typedarray_type want, bool optional, View *out, const char *what);
// A typed array with 4-byte elements (float32, int32, uint32): layout kernels copy them bitwise.
bool arg_typed_4byte(napi_env env, napi_value value, View *out, const char *what);
bool arg_int(napi_env env, napi_value value, int64_t *out, const char *what);
bool arg_bool(napi_env env, napi_value value, bool *out, const char *what);
bool arg_double(napi_env env, napi_value value, double *out, const char *what);
// shape and strides of one strided operand: Int32Arrays of equal length <= LEAF_MAX_RANK,
// non-negative entries.
bool arg_dims(napi_env env, napi_value value, View *out, const char *what);
bool get_args(napi_env env, napi_callback_info info, size_t expected, napi_value *argv, const char *name);

// True when offset + Σ (shape[i]-1)·strides[i] stays inside `length` (strides are non-negative).
bool strided_fits(int64_t offset, const int32_t *shape, const int32_t *strides, int rank, size_t length);
int64_t shape_size(const int32_t *shape, int rank);

napi_value throw_type_error(napi_env env, const char *message);

#define DECLARE_ENTRY(name) napi_value name(napi_env env, napi_callback_info info)

#endif
