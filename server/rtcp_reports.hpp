// The RTCP reports a router sends every second per transport (RFC 3550
// §6.4): to a publisher a receiver report per received layer, to a
// subscriber a sender report per consumer that has sent, each compound
// closed by our CNAME. Pure functions over the producers and consumers.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <utility>

#include "common/time.hpp"
#include "rtp/rtcp/compound_builder.hpp"
#include "server/consumer.hpp"
#include "server/producer.hpp"

namespace sfu::server {

inline constexpr std::string_view kRtcpCname = "sfu";

// To a publisher: an RR (sender SSRC `ssrc`) with one block per layer of
// `producers` that has received a packet, then the SDES CNAME.
void append_receiver_reports(rtp::rtcp::CompoundBuilder& out, uint32_t ssrc, std::span<Producer* const> producers,
                             Instant now);

// One consumer and the producer it forwards (nullptr when closed).
struct ReportedConsumer {
  Consumer* consumer = nullptr;
  const Producer* producer = nullptr;
};

// To a subscriber: one SR per consumer that has sent, carrying the
// publisher's NTP ↔ RTP mapping (publisher_clock, RTP shifted by the
// consumer's timestamp offset) so subscribers keep the publisher's
// audio/video sync; before the publisher's first SR our wall clock `ntp_now`
// and the last sent timestamp advanced by the time since. Notes each SR in
// the consumer's statistics (RTT from the RR that echoes it). An RR when no
// consumer has sent; then the SDES CNAME.
void append_sender_reports(rtp::rtcp::CompoundBuilder& out, uint32_t ssrc, std::span<const ReportedConsumer> consumers,
                           Instant now, uint64_t ntp_now);

// The publisher's clock now, as (NTP, RTP) of the layer `c` forwards: its
// last SR advanced by the time since that SR arrived. nullopt before the
// first SR on that layer, or a minute after the last.
std::optional<std::pair<uint64_t, uint32_t>> publisher_clock(const Consumer& c, const Producer& p, Instant now);

}  // namespace sfu::server
