// Where the media path writes datagrams: a worker's sockets in production,
// a simulated network in tests. One virtual call per packet.
#pragma once

#include "common/bytes.hpp"
#include "ice/path.hpp"

namespace sfu::server {

class PacketOutput {
 public:
  virtual ~PacketOutput() = default;
  // A writable buffer for the next UDP datagram (kPacketBufferSize bytes);
  // fill it and commit_udp(), or leave it unused.
  virtual MutBytes send_buffer() = 0;
  virtual void commit_udp(size_t length, const ice::Address& to) = 0;
  // Sends a copy of `data` on `to` (UDP or an ICE-TCP connection).
  virtual void send(const ice::Path& to, Bytes data) = 0;
};

}  // namespace sfu::server
