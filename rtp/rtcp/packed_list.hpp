// PackedList: a non-owning view over a run of fixed-size records inside an
// RTCP packet (report blocks, SSRC lists, NACK and FIR FCI entries). Records
// are decoded on access, so a parsed packet needs no heap and no copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <span>

#include "common/bytes.hpp"

namespace sfu::rtp::rtcp {

// T is the decoded record; N its size on the wire; Decode reads one record
// from N bytes the view has already bounds-checked.
template <class T, size_t N, T (*Decode)(const uint8_t*)>
class PackedList {
 public:
  using value_type = T;
  static constexpr size_t kEntrySize = N;

  class iterator {
   public:
    using iterator_concept = std::forward_iterator_tag;
    using iterator_category = std::input_iterator_tag;  // yields values, not references
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using reference = T;

    constexpr iterator() = default;
    constexpr explicit iterator(const uint8_t* p) : p_(p) {}
    constexpr T operator*() const { return Decode(p_); }
    constexpr iterator& operator++() {
      p_ += N;
      return *this;
    }
    constexpr iterator operator++(int) {
      iterator old = *this;
      p_ += N;
      return old;
    }
    constexpr bool operator==(const iterator&) const = default;

   private:
    const uint8_t* p_ = nullptr;
  };

  constexpr PackedList() = default;
  // Views the first floor(data.size() / N) records of `data`; the parser that
  // builds the view has already checked that the length is a multiple of N.
  constexpr explicit PackedList(Bytes data) : data_(data.first(data.size() / N * N)) {}

  // Number of records.
  constexpr size_t size() const { return data_.size() / N; }
  constexpr bool empty() const { return data_.empty(); }
  // Precondition: i < size().
  constexpr T operator[](size_t i) const { return Decode(data_.data() + i * N); }
  // The records' wire bytes.
  constexpr Bytes bytes() const { return data_; }

  // Forward iteration, decoding each record as it is dereferenced.
  constexpr iterator begin() const { return iterator(data_.data()); }
  constexpr iterator end() const { return iterator(data_.data() + data_.size()); }

  // Decodes up to out.size() records into `out`; returns how many were
  // written. For turning a parsed view back into a builder's span.
  constexpr size_t copy_to(std::span<T> out) const {
    size_t n = 0;
    for (; n < out.size() && n < size(); ++n) out[n] = (*this)[n];
    return n;
  }

 private:
  Bytes data_;
};

namespace detail {
constexpr uint32_t decode_u32(const uint8_t* p) { return load_be32(p); }
}  // namespace detail

// A list of 32-bit SSRC/CSRC identifiers (BYE, REMB).
using SsrcList = PackedList<uint32_t, 4, &detail::decode_u32>;

}  // namespace sfu::rtp::rtcp
