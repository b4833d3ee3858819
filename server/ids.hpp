// The ground floor of the media side's control API: the ids and states that
// signaling/ names (room_api.hpp, stats.hpp), with nothing behind them, so
// that a signaling file does not pull in the workers, libuv or the
// transport's protocol stack to name a transport.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sfu::server {

using RoomId = uint64_t;
using TransportId = uint64_t;     // assigned by the worker's TransportHost (unique in the process)
using ProducerId = uint64_t;      // assigned by signaling
using ConsumerId = uint64_t;      // assigned by signaling
using DataProducerId = uint64_t;  // assigned by the room's router (unique in the room)
using DataConsumerId = uint64_t;  // assigned by signaling

enum class TransportState : uint8_t { new_, connecting, connected, failed, closed };
inline constexpr size_t kTransportStateCount = 5;
std::string_view to_string(TransportState s);  // transport.cpp

}  // namespace sfu::server
