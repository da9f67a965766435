#pragma once

#include <utility>
#include <variant>

namespace tastesync {

// g++ 12 has no std::expected; this is the one place the project spells it.
template <typename E>
struct Failure {
  E error;
};

template <typename E>
Failure(E) -> Failure<E>;

template <typename T, typename E>
class [[nodiscard]] Result {
 public:
  Result(T value)
      : value_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Failure<E> failure)                                 // NOLINT: implicit by design
      : value_(std::in_place_index<1>, std::move(failure.error)) {}

  bool ok() const { return value_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(value_); }
  const T& value() const& { return std::get<0>(value_); }
  T&& value() && { return std::get<0>(std::move(value_)); }
  T* operator->() { return &std::get<0>(value_); }
  const T* operator->() const { return &std::get<0>(value_); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const E& error() const { return std::get<1>(value_); }

 private:
  std::variant<T, E> value_;
};

// What an operation that yields nothing returns when it worked: Status<E> says whether it did and,
// when not, why (never a bool that means nothing).
struct Done {};

template <typename E>
using Status = Result<Done, E>;

}  // namespace tastesync
