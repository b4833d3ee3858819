// A network path as the ICE agent and the transports see it: which local
// socket (the worker's UDP socket, or one ICE-TCP connection) and the remote
// transport address. Two packets belong to the same ICE tuple iff their
// paths are equal.
#pragma once

#include <cstdint>

#include "ice/address.hpp"

namespace sfu::ice {

struct Path {
  uint32_t tcp = 0;  // 0: UDP; otherwise the ICE-TCP connection id
  Address remote;
  bool is_tcp() const { return tcp != 0; }
  friend bool operator==(const Path&, const Path&) = default;
};

struct PathHash {
  size_t operator()(const Path& p) const { return AddressHash{}(p.remote) * 31 + p.tcp; }
};

}  // namespace sfu::ice
