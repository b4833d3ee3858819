// Result<T, E>: a value or the reason there is none. An in-house stand-in for
// std::expected (C++23) with the subset of its interface we use, so the
// switch later is a rename.
#pragma once

#include <optional>
#include <utility>
#include <variant>

namespace sfu {

// Wraps an error so that Result<T, E> can be built from it even when T and E
// convert into each other. Build one with fail(e).
template <class E>
struct Failure {
  E error;
};

template <class E>
constexpr Failure<E> fail(E e) {
  return Failure<E>{std::move(e)};
}

template <class T, class E>
class [[nodiscard]] Result {
 public:
  constexpr Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(google-explicit-constructor)
  constexpr Result(Failure<E> f) : v_(std::in_place_index<1>, std::move(f.error)) {}  // NOLINT(google-explicit-constructor)

  constexpr bool ok() const { return v_.index() == 0; }
  constexpr explicit operator bool() const { return ok(); }

  // Precondition: ok().
  constexpr T& value() & { return *std::get_if<0>(&v_); }
  constexpr const T& value() const& { return *std::get_if<0>(&v_); }
  constexpr T&& value() && { return std::move(*std::get_if<0>(&v_)); }
  constexpr T* operator->() { return std::get_if<0>(&v_); }
  constexpr const T* operator->() const { return std::get_if<0>(&v_); }
  constexpr T& operator*() & { return value(); }
  constexpr const T& operator*() const& { return value(); }

  // Precondition: !ok().
  constexpr const E& error() const { return *std::get_if<1>(&v_); }

 private:
  std::variant<T, E> v_;
};

// Result of an operation that yields nothing but may fail.
template <class E>
class [[nodiscard]] Result<void, E> {
 public:
  constexpr Result() = default;
  constexpr Result(Failure<E> f) : e_(std::move(f.error)) {}  // NOLINT(google-explicit-constructor)

  constexpr bool ok() const { return !e_.has_value(); }
  constexpr explicit operator bool() const { return ok(); }
  // Precondition: !ok().
  constexpr const E& error() const { return *e_; }

 private:
  std::optional<E> e_;
};

}  // namespace sfu
