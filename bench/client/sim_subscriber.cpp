#include "bench/client/sim_subscriber.hpp"

#include <algorithm>

#include "bench/client/latency_histogram.hpp"
#include "bench/client/payload_probe.hpp"
#include "rtp/header_extensions.hpp"
#include "rtp/rtcp/classify.hpp"
#include "rtp/rtcp/compound_builder.hpp"
#include "rtp/rtcp/picture_loss_indication.hpp"
#include "rtp/rtcp/receiver_report.hpp"
#include "rtp/rtcp/sdes.hpp"
#include "rtp/rtcp/sender_report.hpp"
#include "rtp/rtp_packet.hpp"
#include "rtp/rtx.hpp"
#include "server/media/receive_stream.hpp"

namespace sfu::client {

namespace {

using server::media::MediaKind;

constexpr size_t kMaxArrivals = 8192;  // transport-cc arrivals between two feedback rounds
constexpr size_t kFrameSlots = 64;     // frames being assembled at once, by picture id
constexpr size_t kMaxNacksPerMessage = 256;

// A generic NACK in the CompoundBuilder's message shape.
struct NackMessage {
  uint32_t sender_ssrc = 0;
  uint32_t media_ssrc = 0;
  std::span<const uint16_t> lost;
  size_t serialize_to(MutBytes out) const { return server::media::write_nack(out, sender_ssrc, media_ssrc, lost); }
};

// A transport-cc builder in the CompoundBuilder's message shape.
struct TransportCcMessage {
  const rtp::rtcp::TransportCcBuilder* builder = nullptr;
  size_t serialize_to(MutBytes out) const { return builder->serialize_to(out); }
};

}  // namespace

struct SimSubscriber::Stream {
  struct FrameSlot {
    uint16_t picture_id = 0;
    uint16_t received = 0;
    uint16_t expected = 0;
    bool used = false;
    bool keyframe = false;
    bool done = false;
  };

  Stream(const ExpectedStream& s, const SubscriberConfig& c)
      : spec(s),
        receive(s.ssrc, s.clock_rate ? s.clock_rate
                                     : (s.kind == MediaKind::video ? server::media::kVideoClockRate
                                                                   : server::media::kOpusClockRate)),
        nack(s.kind == MediaKind::video && c.send_nacks ? std::optional<server::media::NackGenerator>(c.nack)
                                                        : std::nullopt) {
    if (s.validate) {
      ValidatorConfig v = c.validator;
      v.kind = s.kind;
      validator.emplace(v);
    }
  }

  bool video() const { return spec.kind == MediaKind::video; }

  ExpectedStream spec;
  server::media::ReceiveStream receive;
  std::optional<server::media::NackGenerator> nack;  // video with send_nacks only
  std::optional<StreamValidator> validator;
  LatencyHistogram latency;
  std::array<FrameSlot, kFrameSlots> frames{};

  // Key-frame requests.
  bool waiting_keyframe = true;  // no decodable key frame since the start or the last loss
  std::optional<Instant> waiting_since;
  std::optional<Instant> last_pli;
  std::optional<Instant> pli_pending;  // when the request was raised
  uint64_t seen_unrecovered = 0;

  // Liveness: arrivals of new media packets (not RTX, not duplicates).
  std::optional<Instant> first_media_at, last_media_at;
  std::optional<Instant> first_frame_at;  // video: the first complete frame
  Duration longest_silence{};
  RateWindow rate;  // every packet's bytes (RTX included), by second

  uint64_t rtx_packets = 0;
  uint64_t recovered_by_rtx = 0;
  uint64_t frames_completed = 0;
  uint64_t keyframes = 0;
  uint64_t plis_sent = 0;
  uint16_t width = 0;
  uint16_t height = 0;
};

SimSubscriber::SimSubscriber(SubscriberConfig config)
    : config_(std::move(config)),
      twcc_builder_(std::min(config_.max_datagram, rtp::rtcp::kTransportCcMaxSize)),
      out_(std::max<size_t>(config_.max_datagram, 64)) {
  arrivals_.reserve(kMaxArrivals);
  for (const ExpectedStream& s : config_.streams) add_stream(s);
}

SimSubscriber::~SimSubscriber() = default;
SimSubscriber::SimSubscriber(SimSubscriber&&) noexcept = default;
SimSubscriber& SimSubscriber::operator=(SimSubscriber&&) noexcept = default;

// ---- streams ---------------------------------------------------------------------

void SimSubscriber::add_stream(const ExpectedStream& stream) {
  remove_stream(stream.ssrc);
  streams_.push_back(std::make_unique<Stream>(stream, config_));
  rebuild_index();
}

bool SimSubscriber::remove_stream(uint32_t ssrc) {
  auto it = std::find_if(streams_.begin(), streams_.end(), [ssrc](const auto& s) { return s->spec.ssrc == ssrc; });
  if (it == streams_.end()) return false;
  streams_.erase(it);
  rebuild_index();
  return true;
}

void SimSubscriber::rebuild_index() {
  index_.clear();
  for (size_t i = 0; i < streams_.size(); ++i) {
    index_.push_back({streams_[i]->spec.ssrc, uint32_t(i), false});
    if (streams_[i]->spec.rtx_ssrc != 0) index_.push_back({streams_[i]->spec.rtx_ssrc, uint32_t(i), true});
  }
  std::sort(index_.begin(), index_.end(), [](const IndexEntry& a, const IndexEntry& b) { return a.ssrc < b.ssrc; });
}

const SimSubscriber::IndexEntry* SimSubscriber::lookup(uint32_t ssrc) const {
  auto it =
      std::lower_bound(index_.begin(), index_.end(), ssrc, [](const IndexEntry& e, uint32_t s) { return e.ssrc < s; });
  return it != index_.end() && it->ssrc == ssrc ? &*it : nullptr;
}

uint32_t SimSubscriber::stream_ssrc(size_t i) const { return streams_[i]->spec.ssrc; }

// ---- RTP in ------------------------------------------------------------------------

void SimSubscriber::handle_rtp(Instant now, Bytes packet) {
  ++counters_.rtp_received;
  auto view = rtp::parse_rtp(packet);
  if (!view) {
    ++counters_.malformed;
    return;
  }
  record_arrival(now, *view);
  const IndexEntry* e = lookup(view->ssrc());
  if (!e) {
    ++counters_.unknown_ssrc;
    return;
  }
  Stream& st = *streams_[e->stream];
  if (!e->rtx) {
    on_media(now, st, {view->ssrc(), view->sequence(), view->timestamp(), view->marker(), view->payload(), false},
             packet.size());
    return;
  }
  if (rtp::rtx_is_padding_only(*view)) {
    ++counters_.padding_only;
    return;
  }
  auto content = rtp::rtx_content(*view);
  if (!content) {
    ++counters_.malformed;
    return;
  }
  ++st.rtx_packets;
  on_media(now, st,
           {st.spec.ssrc, content->original_sequence, view->timestamp(), view->marker(), content->payload, true},
           packet.size());
}

void SimSubscriber::record_arrival(Instant now, const rtp::RtpView& view) {
  if (config_.transport_cc_ext_id == 0) return;
  auto raw = view.extension(config_.transport_cc_ext_id);
  if (!raw) return;
  auto seq = rtp::ext::parse_transport_sequence(*raw);
  if (!seq) return;
  int64_t ext = twcc_unwrapper_.peek(*seq);
  if (!twcc_started_ || ext > twcc_highest_) {  // keep the reference at the highest
    ext = twcc_unwrapper_.unwrap(*seq);
    twcc_highest_ = ext;
    twcc_started_ = true;
  }
  if (arrivals_.size() == arrivals_.capacity()) {
    ++counters_.transport_cc_dropped;
    return;
  }
  arrivals_.push_back({ext, to_micros(now)});
  if (!next_transport_cc_) next_transport_cc_ = now + config_.transport_cc_interval;
}

void SimSubscriber::on_media(Instant now, Stream& st, const MediaPacket& m, size_t size) {
  if (!next_report_) next_report_ = now + config_.report_interval;
  if (!st.waiting_since) st.waiting_since = now;
  const auto kind = st.receive.on_packet(now, m.seq, m.timestamp, size, m.retransmission);
  st.rate.add(now, size);
  if (m.retransmission && kind == server::media::ArrivalKind::late) ++st.recovered_by_rtx;
  if (!m.retransmission && kind != server::media::ArrivalKind::duplicate) {
    if (st.last_media_at) st.longest_silence = std::max(st.longest_silence, now - *st.last_media_at);
    if (!st.first_media_at) st.first_media_at = now;
    st.last_media_at = now;
  }
  if (st.validator) st.validator->handle_packet(now, m);
  // Fill bytes are checked where the stream is validated; elsewhere the
  // probe header alone gives the timing and the frame's packet count.
  const bool check_fill = st.validator.has_value();
  if (!st.video()) {
    if (kind != server::media::ArrivalKind::duplicate && !m.retransmission) {
      const ProbeResult p = read_probe(m.payload.size() > 1 ? m.payload.subspan(1) : Bytes{}, check_fill);
      if (p.status == ProbeStatus::ok) st.latency.record(to_micros(now) - p.probe.send_time_us);
    }
    return;
  }
  const PayloadLayout l = inspect_payload(true, m.payload);  // once, for NACK and frames
  if (st.nack) st.nack->on_packet(now, m.seq, l.frame_start && l.frame.keyframe, m.retransmission);
  if (kind != server::media::ArrivalKind::duplicate) track_frame(now, st, m, l);
}

// Frame assembly by picture id, counting packets against the probe's
// packet count: a frame is complete (decodable, as far as loss goes) when
// all its packets are in.
void SimSubscriber::track_frame(Instant now, Stream& st, const MediaPacket& m, const PayloadLayout& l) {
  if (!l.parsed || !l.vp8.has_picture_id) return;
  if (l.frame_start && l.frame.has_dimensions) {
    st.width = l.frame.width;
    st.height = l.frame.height;
  }
  const ProbeResult p = read_probe(l.probe_offset <= m.payload.size() ? m.payload.subspan(l.probe_offset) : Bytes{},
                                   st.validator.has_value());
  if (p.status != ProbeStatus::ok) return;
  if (!m.retransmission) st.latency.record(to_micros(now) - p.probe.send_time_us);
  Stream::FrameSlot& f = st.frames[l.vp8.picture_id % kFrameSlots];
  if (!f.used || f.picture_id != l.vp8.picture_id) {
    f = {l.vp8.picture_id, 0, p.probe.packet_count, true, p.probe.keyframe, false};
  }
  if (f.done || ++f.received < f.expected) return;
  f.done = true;
  ++st.frames_completed;
  if (!st.first_frame_at) st.first_frame_at = now;
  if (!f.keyframe) return;
  ++st.keyframes;
  st.waiting_keyframe = false;
}

// ---- RTCP in ---------------------------------------------------------------------------

void SimSubscriber::handle_rtcp(Instant now, Bytes compound) {
  ++counters_.rtcp_received;
  rtp::rtcp::CompoundReader reader(compound);
  while (auto p = reader.next()) {
    if (rtp::rtcp::classify(*p) != rtp::rtcp::MessageKind::sender_report) continue;
    auto sr = rtp::rtcp::SenderReportView::parse(*p);
    if (!sr) continue;
    const IndexEntry* e = lookup(sr->ssrc);
    if (e && !e->rtx)
      streams_[e->stream]->receive.on_sender_report(now, sr->info.ntp_timestamp, sr->info.rtp_timestamp);
  }
  if (reader.error()) ++counters_.malformed;
}

// ---- RTCP out -----------------------------------------------------------------------------

void SimSubscriber::request_keyframe(uint32_t ssrc) {
  const IndexEntry* e = lookup(ssrc);
  if (!e) return;
  Stream& st = *streams_[e->stream];
  if (st.video() && !st.pli_pending) st.pli_pending = st.last_pli.value_or(Instant{});
}

// Raises PLIs: loss the NackGenerator cannot repair (immediately, at most
// once per pli_min_interval), and key frames not arriving for
// keyframe_timeout (once per keyframe_timeout).
void SimSubscriber::update_keyframe_requests(Instant now) {
  for (auto& p : streams_) {
    Stream& st = *p;
    if (!st.video()) continue;
    if (!st.waiting_since) st.waiting_since = now;
    const bool nack_request = st.nack && st.nack->poll_keyframe_request();
    const uint64_t unrecovered = st.nack ? st.nack->unrecovered() : 0;
    const bool gave_up = unrecovered > st.seen_unrecovered;
    st.seen_unrecovered = unrecovered;
    if (nack_request || gave_up) {
      if (!st.waiting_keyframe) st.waiting_since = now;
      st.waiting_keyframe = true;
      if (!st.last_pli || now - *st.last_pli >= config_.pli_min_interval) st.pli_pending = now;
    }
    const Instant since = std::max(*st.waiting_since, st.last_pli.value_or(*st.waiting_since));
    if (st.waiting_keyframe && now - since >= config_.keyframe_timeout && !st.pli_pending) st.pli_pending = now;
  }
}

std::optional<Bytes> SimSubscriber::poll_rtcp(Instant now) {
  update_keyframe_requests(now);
  rtp::rtcp::CompoundBuilder b(out_);
  if (next_report_ && now >= *next_report_) {
    append_reports(b, now);
    next_report_ = now + config_.report_interval;
  }
  append_plis(b, now);
  append_nacks(b, now);
  if (next_transport_cc_ && now >= *next_transport_cc_) append_transport_cc(b, now);
  if (b.size() == 0) return std::nullopt;
  ++counters_.rtcp_sent;
  return b.data();
}

void SimSubscriber::append_reports(rtp::rtcp::CompoundBuilder& b, Instant now) {
  std::array<rtp::rtcp::ReportBlock, rtp::rtcp::kMaxReportBlocks> blocks;
  size_t n = 0;
  bool any = false;
  for (auto& p : streams_) {
    if (!p->receive.has_received()) continue;
    blocks[n++] = p->receive.make_report_block(now);
    if (n == blocks.size()) {
      b.append(rtp::rtcp::ReceiverReport{config_.rtcp_ssrc, std::span(blocks.data(), n), {}});
      n = 0;
      any = true;
    }
  }
  if (n > 0 || !any) b.append(rtp::rtcp::ReceiverReport{config_.rtcp_ssrc, std::span(blocks.data(), n), {}});
  b.append(rtp::rtcp::CnameSdes{config_.rtcp_ssrc, config_.cname});
}

void SimSubscriber::append_plis(rtp::rtcp::CompoundBuilder& b, Instant now) {
  for (auto& p : streams_) {
    Stream& st = *p;
    if (!st.pli_pending) continue;
    if (!b.append(rtp::rtcp::PictureLossIndication{{config_.rtcp_ssrc, st.spec.ssrc}})) return;
    st.pli_pending.reset();
    st.last_pli = now;
    ++st.plis_sent;
  }
}

void SimSubscriber::append_nacks(rtp::rtcp::CompoundBuilder& b, Instant now) {
  std::array<uint16_t, kMaxNacksPerMessage> lost;
  for (auto& p : streams_) {
    Stream& st = *p;
    if (!st.nack) continue;
    const auto due = st.nack->poll_timeout();
    if (!due || *due > now) continue;
    // Each number takes at most one 4-byte item: size the request to the room.
    const size_t room = b.remaining();
    if (room < 16) return;
    const size_t max = std::min(lost.size(), (room - 12) / 4);
    const size_t n = st.nack->poll_nacks(now, std::span(lost.data(), max));
    if (n > 0) b.append(NackMessage{config_.rtcp_ssrc, st.spec.ssrc, std::span<const uint16_t>(lost.data(), n)});
  }
}

// Feeds arrivals from `from` into the builder until it is full; returns the
// index of the first arrival not consumed. Arrivals already reported, and
// duplicates, are skipped.
size_t SimSubscriber::fill_transport_cc(size_t from) {
  twcc_builder_.clear();
  size_t i = from;
  for (; i < arrivals_.size(); ++i) {
    const Arrival& a = arrivals_[i];
    if (a.seq < next_feedback_seq_) {
      ++counters_.transport_cc_dropped;
      continue;
    }
    if (!twcc_builder_.add_received(uint16_t(a.seq), a.arrival_us)) {
      if (!twcc_builder_.empty()) break;  // full: this one starts the next packet
      ++counters_.transport_cc_dropped;   // cannot be reported at all
      continue;
    }
    next_feedback_seq_ = a.seq + 1;
  }
  return i;
}

void SimSubscriber::append_transport_cc(rtp::rtcp::CompoundBuilder& b, Instant now) {
  std::sort(arrivals_.begin(), arrivals_.end(), [](const Arrival& x, const Arrival& y) { return x.seq < y.seq; });
  twcc_builder_.set_sender_ssrc(config_.rtcp_ssrc);
  twcc_builder_.set_media_ssrc(streams_.empty() ? 0 : streams_.front()->spec.ssrc);
  size_t done = 0;
  while (done < arrivals_.size()) {
    const int64_t resume = next_feedback_seq_;
    const size_t end = fill_transport_cc(done);
    if (twcc_builder_.empty()) {
      done = end;
      continue;
    }
    if (twcc_builder_.serialized_size() > b.remaining()) {
      next_feedback_seq_ = resume;  // goes into the next datagram
      break;
    }
    twcc_builder_.set_feedback_count(feedback_count_++);
    b.append(TransportCcMessage{&twcc_builder_});
    ++counters_.transport_cc_sent;
    done = end;
  }
  arrivals_.erase(arrivals_.begin(), arrivals_.begin() + std::ptrdiff_t(done));
  if (arrivals_.empty()) next_transport_cc_ = now + config_.transport_cc_interval;
}

std::optional<Instant> SimSubscriber::poll_timeout() const {
  std::optional<Instant> t;
  auto consider = [&t](std::optional<Instant> c) {
    if (c) t = t ? std::min(*t, *c) : *c;
  };
  consider(next_report_);
  consider(next_transport_cc_);
  for (const auto& p : streams_) {
    const Stream& st = *p;
    if (!st.video()) continue;
    consider(st.pli_pending);
    if (st.nack) consider(st.nack->poll_timeout());
    if (st.waiting_keyframe && st.waiting_since) {
      const Instant since = std::max(*st.waiting_since, st.last_pli.value_or(*st.waiting_since));
      consider(since + config_.keyframe_timeout);
    }
  }
  return t;
}

// ---- results ---------------------------------------------------------------------------------

void SimSubscriber::finish(Instant now) {
  for (auto& p : streams_) {
    if (p->validator) p->validator->finish(now);
  }
}

bool SimSubscriber::ok() const {
  return std::all_of(streams_.begin(), streams_.end(),
                     [](const auto& p) { return !p->validator || p->validator->ok(); });
}

const LatencyHistogram* SimSubscriber::latency(uint32_t ssrc) const {
  const IndexEntry* e = lookup(ssrc);
  if (!e || e->rtx) return nullptr;
  return &streams_[e->stream]->latency;
}

const StreamValidator* SimSubscriber::validator(uint32_t ssrc) const {
  const IndexEntry* e = lookup(ssrc);
  if (!e || e->rtx) return nullptr;
  const auto& v = streams_[e->stream]->validator;
  return v ? &*v : nullptr;
}

double SimSubscriber::stream_bps(uint32_t ssrc, Instant from, Instant to) const {
  const IndexEntry* e = lookup(ssrc);
  if (!e || e->rtx) return 0;
  return streams_[e->stream]->rate.bps(from, to);
}

std::optional<SubscriberStreamStats> SimSubscriber::stream_stats(uint32_t ssrc, Instant now) const {
  const IndexEntry* e = lookup(ssrc);
  if (!e || e->rtx) return std::nullopt;
  const Stream& st = *streams_[e->stream];
  SubscriberStreamStats s;
  s.ssrc = st.spec.ssrc;
  s.kind = st.spec.kind;
  s.packets = st.receive.packets_received();
  s.bytes = st.receive.bytes_received();
  s.bitrate_bps = st.receive.bitrate_bps(now);
  s.lost = st.receive.cumulative_lost();
  s.rtx_packets = st.rtx_packets;
  s.recovered_by_rtx = st.recovered_by_rtx;
  s.duplicates = st.receive.duplicates();
  s.frames_completed = st.frames_completed;
  s.keyframes = st.keyframes;
  s.nacks_sent = st.nack ? st.nack->nacks_sent() : 0;
  s.plis_sent = st.plis_sent;
  s.width = st.width;
  s.height = st.height;
  s.latency_p50_us = st.latency.percentile(0.5);
  s.latency_p99_us = st.latency.percentile(0.99);
  s.jitter_ms = st.receive.jitter_ms();
  s.valid = !st.validator || st.validator->ok();
  s.first_media_at = st.first_media_at;
  s.first_frame_at = st.first_frame_at;
  if (st.last_media_at) s.longest_silence = std::max(st.longest_silence, std::max(Duration{}, now - *st.last_media_at));
  return s;
}

}  // namespace sfu::client
