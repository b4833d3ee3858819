// Shared helpers for the RTCP message tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "rtp/rtcp/rtcp_header.hpp"

namespace sfu::rtp::rtcp::test {

// The single packet at the start of `bytes`; fails the test if the common
// header does not parse.
inline PacketView packet_of(Bytes bytes) {
  auto p = parse_packet(bytes);
  EXPECT_TRUE(p.ok()) << "common header rejected: " << to_string(p.error());
  return p.ok() ? *p : PacketView{};
}

// Serialises m into a vector sized by serialized_size(), checking that
// serialize_to writes exactly that much.
template <class M>
std::vector<uint8_t> serialize(const M& m) {
  std::vector<uint8_t> out(m.serialized_size());
  const size_t n = m.serialize_to(out);
  EXPECT_EQ(n, out.size());
  out.resize(n);
  return out;
}

inline std::vector<uint8_t> bytes_of(Bytes b) { return {b.begin(), b.end()}; }

}  // namespace sfu::rtp::rtcp::test
