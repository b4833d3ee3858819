// sctp::Association: one SCTP association over DTLS (RFC 8261) carrying
// WebRTC data channels (RFC 8831) opened with DCEP (RFC 8832). usrsctp does
// the SCTP; this class is the sans-IO face the rest of the server sees:
//
//   bytes from DTLS ──► receive(now, packet)
//   timers          ──► handle_timeout(now)   (also advances the shared Stack)
//   poll_transmit()  ──► SCTP packets to send as DTLS application data
//   poll_event()     ──► connected / channel_open / message / writable / ...
//   open_channel(), send(), close_channel(), set_reading()
//
// Threading: an Association is used by one thread at a time (its worker).
// usrsctp's process-global state belongs to sctp::Stack (stack.hpp), which
// serialises every usrsctp call with one mutex. usrsctp's callbacks (output,
// upcalls) only append to the queues of the association they name, found by
// integer id under that mutex, so a callback that fires on another worker's
// thread (a retransmission timer run from its tick) never touches this
// object's owner-side state; the owner picks the results up at its next
// poll_transmit() / poll_event().
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "common/time.hpp"

namespace sfu::sctp {

// RFC 8832 §5.1 channel types, folded into ordered + reliability.
enum class Reliability : uint8_t {
  reliable,         // value unused
  max_retransmits,  // value = retransmissions (maxRetransmits)
  max_lifetime,     // value = milliseconds (maxPacketLifeTime)
};

struct ChannelParams {
  std::string label;
  std::string protocol;
  bool ordered = true;
  Reliability reliability = Reliability::reliable;
  uint32_t reliability_value = 0;
  uint16_t priority = 256;  // RFC 8831 §6.4 "normal"

  friend bool operator==(const ChannelParams&, const ChannelParams&) = default;
};

// RFC 8831 §8 PPIDs, as message kinds.
enum class MessageKind : uint8_t { string, binary };

struct AssociationConfig {
  // RFC 8832 §6: the DTLS client opens channels on even stream ids, the
  // DTLS server on odd ones.
  bool dtls_client = false;
  uint16_t local_port = 5000;  // a=sctp-port (RFC 8841)
  uint16_t remote_port = 5000;
  // The largest message the peer accepts (its a=max-message-size; RFC 8841
  // §6.1: 65536 when absent, 0 = no limit). send() refuses bigger ones.
  size_t remote_max_message_size = 65536;
  // The largest message we accept (our a=max-message-size). A bigger one
  // that arrives is dropped and counted (never truncated).
  size_t local_max_message_size = 262144;
  size_t send_buffer = 1 << 20;     // usrsctp SO_SNDBUF
  size_t receive_buffer = 1 << 20;  // usrsctp SO_RCVBUF
  // `writable` is reported when buffered_amount() falls to this or below
  // after a send() returned would_block.
  size_t writable_threshold = 256 * 1024;
  uint16_t streams = 1024;  // inbound and outbound streams asked for in INIT
  // The largest SCTP packet (path MTU discovery off): it must fit one DTLS
  // record. Our DTLS MTU is 1200 bytes; a DTLS 1.2 record costs at most 65
  // of them (13 header, 16 IV, 20 MAC, 16 padding with CBC suites), so
  // 1130 fits any suite.
  uint32_t mtu = 1130;
};

struct AssociationEvent {
  enum class Type : uint8_t {
    connected,       // the association is up; channels may be opened
    closed,          // the association ended (shutdown, abort, timeout); final
    channel_open,    // the peer opened `stream` with DCEP OPEN (we sent the ACK); params set
    channel_acked,   // our open_channel() on `stream` got its DCEP ACK
    channel_closed,  // `stream` was reset (by either side); its id may be reused
    message,         // a whole message on `stream`: kind + data (empty allowed)
    writable,        // buffered_amount() fell to writable_threshold after would_block
  };
  Type type;
  uint16_t stream = 0;
  MessageKind kind = MessageKind::binary;
  Bytes data;            // message: valid until the next poll_event() call
  ChannelParams params;  // channel_open
};

enum class SendStatus : uint8_t {
  ok,
  would_block,  // the send buffer is full; retry after `writable` (nothing queued)
  too_large,    // bigger than remote_max_message_size
  no_channel,   // stream not open
  closed,       // association not connected
  dropped,      // an unreliable channel's message dropped because the buffer is full
};

struct AssociationCounters {
  uint64_t packets_in = 0;
  uint64_t packets_out = 0;
  uint64_t messages_in = 0;
  uint64_t messages_out = 0;
  uint64_t bytes_in = 0;  // message payload bytes
  uint64_t bytes_out = 0;
  uint64_t oversized_in = 0;    // messages over local_max_message_size, dropped
  uint64_t bad_dcep = 0;        // malformed DCEP messages, dropped
  uint64_t unknown_stream = 0;  // data on a stream with no open channel, dropped
  uint64_t send_dropped = 0;    // SendStatus::dropped
  uint64_t unknown_ppid = 0;    // messages with a PPID that is not DCEP/string/binary, dropped
};

class Association {
 public:
  explicit Association(AssociationConfig config);
  ~Association();  // aborts the association if still up; safe at any time
  Association(const Association&) = delete;
  Association& operator=(const Association&) = delete;

  // Starts the handshake (both ends call it once DTLS is connected: a
  // simultaneous open, as browsers do).
  void start(Instant now);
  // One SCTP packet received as DTLS application data. Malformed input is
  // usrsctp's to drop; never throws.
  void receive(Instant now, Bytes packet);
  // Runs due timers (retransmissions, heartbeats, DCEP bookkeeping).
  void handle_timeout(Instant now);
  // When handle_timeout should next run (a coarse bound: usrsctp's timer
  // wheel ticks every 10 ms).
  std::optional<Instant> poll_timeout() const;

  // The next SCTP packet to send as DTLS application data; valid until the
  // next call on this association.
  std::optional<Bytes> poll_transmit();
  std::optional<AssociationEvent> poll_event();

  // Opens a channel with DCEP OPEN on the lowest free stream id of our
  // parity. Fails before `connected` or when no stream is free.
  Result<uint16_t, SendStatus> open_channel(const ChannelParams& params);
  // One message on an open channel with that channel's ordering and
  // reliability. Reliable channels return would_block when the send buffer
  // cannot take it; unreliable ones drop (counted) instead.
  SendStatus send(uint16_t stream, MessageKind kind, Bytes data);
  // Resets the stream (RFC 8831 §6.7); channel_closed follows.
  void close_channel(uint16_t stream);
  // Backpressure toward the peer: while false, received messages stay in
  // usrsctp's receive buffer (its window closes and the peer's stack stops
  // sending); true resumes delivery.
  void set_reading(bool on);
  void set_remote_max_message_size(size_t bytes);  // 0 = no limit

  bool connected() const;
  size_t buffered_amount() const;  // bytes accepted by send() not yet acked
  const AssociationCounters& counters() const;
  // The stream's parameters, when open.
  const ChannelParams* channel(uint16_t stream) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sfu::sctp
