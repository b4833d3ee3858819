// libFuzzer target for compound RTCP (RFC 3550 §6.1 / RFC 5506): walks the
// datagram with CompoundReader, runs every message parser on every packet,
// and for each one that accepts it re-serialises, re-parses and traps unless
// the fields survive, a second serialisation is byte-identical, and a buffer
// one byte short is refused. classify() must agree with whichever parser
// accepted the packet.
#include <algorithm>
#include <array>
#include <bitset>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "rtp/rtcp/bye.hpp"
#include "rtp/rtcp/classify.hpp"
#include "rtp/rtcp/full_intra_request.hpp"
#include "rtp/rtcp/picture_loss_indication.hpp"
#include "rtp/rtcp/receiver_report.hpp"
#include "rtp/rtcp/remb.hpp"
#include "rtp/rtcp/sdes.hpp"
#include "rtp/rtcp/sender_report.hpp"
#include "rtp/rtcp/transport_layer_nack.hpp"

using namespace sfu;
using namespace sfu::rtp::rtcp;

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

bool same(Bytes a, Bytes b) { return std::equal(a.begin(), a.end(), b.begin(), b.end()); }

// Serialises m, checking size bookkeeping and that one byte less is refused.
template <class M>
std::vector<uint8_t> serialize(const M& m) {
  std::vector<uint8_t> out(m.serialized_size());
  check(m.serialize_to(out) == out.size());
  std::vector<uint8_t> short_buf(out.size() - 1);
  check(m.serialize_to(short_buf) == 0);
  return out;
}

// The packet at the start of wire, which must parse and fill wire exactly.
PacketView reparse(const std::vector<uint8_t>& wire) {
  auto p = parse_packet(wire);
  check(p.ok() && p->packet.size() == wire.size());
  return *p;
}

// Extension after a rebuild: the original plus zero padding to 4 bytes.
bool same_extension(Bytes orig, Bytes again) {
  if (again.size() != (orig.size() + 3) / 4 * 4) return false;
  if (!same(orig, again.first(orig.size()))) return false;
  return std::all_of(again.begin() + long(orig.size()), again.end(), [](uint8_t b) { return b == 0; });
}

template <class Range>
bool same_list(const Range& a, const Range& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

void check_sender_report(const SenderReportView& v) {
  std::array<ReportBlock, kMaxReportBlocks> blocks{};
  const size_t n = v.report_blocks.copy_to(blocks);
  check(n == v.report_blocks.size());
  const std::vector<uint8_t> wire = serialize(SenderReport{v.ssrc, v.info, {blocks.data(), n}, v.profile_extension});
  auto again = SenderReportView::parse(reparse(wire));
  check(again.ok() && again->ssrc == v.ssrc && again->info == v.info);
  check(same_list(again->report_blocks, v.report_blocks));
  check(same_extension(v.profile_extension, again->profile_extension));
  check(serialize(SenderReport{v.ssrc, v.info, {blocks.data(), n}, again->profile_extension}) == wire);
}

void check_receiver_report(const ReceiverReportView& v) {
  std::array<ReportBlock, kMaxReportBlocks> blocks{};
  const size_t n = v.report_blocks.copy_to(blocks);
  check(n == v.report_blocks.size());
  const std::vector<uint8_t> wire = serialize(ReceiverReport{v.ssrc, {blocks.data(), n}, v.profile_extension});
  auto again = ReceiverReportView::parse(reparse(wire));
  check(again.ok() && again->ssrc == v.ssrc);
  check(same_list(again->report_blocks, v.report_blocks));
  check(same_extension(v.profile_extension, again->profile_extension));
  check(serialize(ReceiverReport{v.ssrc, {blocks.data(), n}, again->profile_extension}) == wire);
}

// Flattens a parsed SDES into builder form (items point into the packet).
struct SdesCopy {
  std::vector<std::vector<SdesItem>> items;
  std::vector<SdesChunk> chunks;
  explicit SdesCopy(const SdesView& v) {
    for (SdesChunkView c : v) items.emplace_back(c.items.begin(), c.items.end());
    size_t i = 0;
    for (SdesChunkView c : v) chunks.push_back({c.ssrc, items[i++]});
  }
};

void check_sdes(const SdesView& v) {
  const SdesCopy copy(v);
  check(copy.chunks.size() == v.size());
  const std::vector<uint8_t> wire = serialize(Sdes{copy.chunks});
  auto again = SdesView::parse(reparse(wire));
  check(again.ok());
  const SdesCopy copy2(*again);
  check(copy2.items == copy.items && copy2.chunks.size() == copy.chunks.size());
  for (size_t i = 0; i < copy.chunks.size(); ++i) {
    check(copy2.chunks[i].ssrc == copy.chunks[i].ssrc);
    check(again->cname(copy.chunks[i].ssrc).has_value() == v.cname(copy.chunks[i].ssrc).has_value());
  }
  check(serialize(Sdes{copy2.chunks}) == wire);
}

void check_bye(const ByeView& v) {
  std::array<uint32_t, kMaxByeSsrcs> ssrcs{};
  const size_t n = v.ssrcs.copy_to(ssrcs);
  check(n == v.ssrcs.size());
  const std::vector<uint8_t> wire = serialize(Bye{{ssrcs.data(), n}, v.reason});
  auto again = ByeView::parse(reparse(wire));
  check(again.ok() && same_list(again->ssrcs, v.ssrcs) && again->reason == v.reason);
  check(serialize(Bye{{ssrcs.data(), n}, again->reason}) == wire);
}

// Packing the expanded lost list again covers exactly the same numbers.
void check_nack_repack(const TransportLayerNackView& v) {
  std::vector<uint16_t> lost(v.lost_packets().begin(), v.lost_packets().end());
  std::vector<NackItem> items(lost.size());
  const NackPackResult r = pack_nack_items(lost, items);
  check(r.consumed == lost.size() && r.items <= lost.size());
  std::bitset<65536> want, got;
  for (uint16_t s : lost) want.set(s);
  const TransportLayerNack repacked{v.header, {items.data(), r.items}};
  const std::vector<uint8_t> wire = serialize(repacked);
  auto again = TransportLayerNackView::parse(reparse(wire));
  check(again.ok());
  for (uint16_t s : again->lost_packets()) got.set(s);
  check(got == want);
}

void check_nack(const TransportLayerNackView& v) {
  std::vector<NackItem> items(v.items.begin(), v.items.end());
  const std::vector<uint8_t> wire = serialize(TransportLayerNack{v.header, items});
  auto again = TransportLayerNackView::parse(reparse(wire));
  check(again.ok() && again->header == v.header && same_list(again->items, v.items));
  check(same_list(again->lost_packets(), v.lost_packets()));
  if (v.items.size() <= 64) check_nack_repack(v);
}

void check_pli(const PictureLossIndication& v) {
  auto again = PictureLossIndication::parse(reparse(serialize(v)));
  check(again.ok() && *again == v);
}

void check_fir(const FullIntraRequestView& v) {
  std::vector<FirEntry> entries(v.entries.begin(), v.entries.end());
  const std::vector<uint8_t> wire = serialize(FullIntraRequest{v.header, entries});
  auto again = FullIntraRequestView::parse(reparse(wire));
  check(again.ok() && again->header == v.header && same_list(again->entries, v.entries));
}

void check_remb(const RembView& v) {
  std::array<uint32_t, kMaxRembSsrcs> ssrcs{};
  const size_t n = v.ssrcs.copy_to(ssrcs);
  check(n == v.ssrcs.size());
  const std::vector<uint8_t> wire = serialize(Remb{v.header, v.bitrate_bps, {ssrcs.data(), n}});
  auto again = RembView::parse(reparse(wire));
  check(again.ok() && again->header == v.header && again->bitrate_bps == v.bitrate_bps);
  check(again->encoded == encode_remb_bitrate(v.bitrate_bps) && same_list(again->ssrcs, v.ssrcs));
}

// Runs every parser on p; returns how many accepted it, checking each
// acceptance against classify().
int check_packet(const PacketView& p) {
  const MessageKind kind = classify(p);
  check(!to_string(kind).empty());
  int accepted = 0;
  auto accept = [&](MessageKind k) {
    check(kind == k);
    ++accepted;
  };
  if (auto v = SenderReportView::parse(p)) {
    accept(MessageKind::sender_report);
    check_sender_report(*v);
  }
  if (auto v = ReceiverReportView::parse(p)) {
    accept(MessageKind::receiver_report);
    check_receiver_report(*v);
  }
  if (auto v = SdesView::parse(p)) {
    accept(MessageKind::sdes);
    check_sdes(*v);
  }
  if (auto v = ByeView::parse(p)) {
    accept(MessageKind::bye);
    check_bye(*v);
  }
  if (auto v = TransportLayerNackView::parse(p)) {
    accept(MessageKind::nack);
    check_nack(*v);
  }
  if (auto v = PictureLossIndication::parse(p)) {
    accept(MessageKind::pli);
    check_pli(*v);
  }
  if (auto v = FullIntraRequestView::parse(p)) {
    accept(MessageKind::fir);
    check_fir(*v);
  }
  if (auto v = RembView::parse(p)) {
    accept(MessageKind::remb);
    check_remb(*v);
  }
  return accepted;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  CompoundReader reader(Bytes(data, size));
  size_t consumed = 0;
  while (auto p = reader.next()) {
    check(p->packet.data() == data + consumed);
    consumed += p->packet.size();
    check(check_packet(*p) <= 1);
  }
  check(reader.error().has_value() || consumed == size);
  return 0;
}
