#pragma once
// Result<T>: a value or an Error, the return type of everything on the request path that can fail
// in an expected way. Cheap to move; cannot be silently dropped.

#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

#include "core/error.hpp"

namespace modelmux {

template <class T>
class [[nodiscard]] Result {
 public:
  // Default: an internal error. Exists so that Result can travel through APIs that need a
  // default-constructible value (futures, channels); never return one on purpose.
  Result() : v_(std::in_place_index<1>, Internal("no result")) {}
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  [[nodiscard]] bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const& {
    assert(!ok());
    return std::get<1>(v_);
  }
  Error&& error() && {
    assert(!ok());
    return std::get<1>(std::move(v_));
  }

 private:
  std::variant<T, Error> v_;
};

struct Ok {};
using Status = Result<Ok>;
inline Status OkStatus() {
  return Ok{};
}

}  // namespace modelmux

// MM_TRY(var, expr): evaluates expr (a Result); on error returns it, else moves the value into var.
#define MM_CONCAT_INNER(a, b) a##b
#define MM_CONCAT(a, b) MM_CONCAT_INNER(a, b)
#define MM_TRY(var, expr)                                                                         \
  auto MM_CONCAT(mm_try_, __LINE__) = (expr);                                                     \
  if (!MM_CONCAT(mm_try_, __LINE__).ok()) return std::move(MM_CONCAT(mm_try_, __LINE__)).error(); \
  var = std::move(MM_CONCAT(mm_try_, __LINE__)).value()
// MM_RETURN_IF_ERROR(expr): for Status-returning expressions.
#define MM_RETURN_IF_ERROR(expr)                                \
  do {                                                          \
    auto mm_status_ = (expr);                                   \
    if (!mm_status_.ok()) return std::move(mm_status_).error(); \
  } while (0)

// Coroutine forms of the two macros above (co_return instead of return).
#define MM_CO_TRY(var, expr)                                               \
  auto MM_CONCAT(mm_try_, __LINE__) = (expr);                              \
  if (!MM_CONCAT(mm_try_, __LINE__).ok())                                  \
    co_return std::move(MM_CONCAT(mm_try_, __LINE__)).error();             \
  var = std::move(MM_CONCAT(mm_try_, __LINE__)).value()
#define MM_CO_RETURN_IF_ERROR(expr)                                        \
  do {                                                                     \
    auto mm_status_ = (expr);                                              \
    if (!mm_status_.ok()) co_return std::move(mm_status_).error();         \
  } while (0)
