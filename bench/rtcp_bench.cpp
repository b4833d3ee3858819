// RTCP on the media path: every subscriber and publisher sends a compound
// every few hundred milliseconds (SR+SDES+REMB from senders, RR+NACK from
// receivers under loss), each walked, classified and fully parsed; NACKs are
// built per loss burst for every publisher.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <vector>

#include "rtp/rtcp/classify.hpp"
#include "rtp/rtcp/compound_builder.hpp"
#include "rtp/rtcp/receiver_report.hpp"
#include "rtp/rtcp/remb.hpp"
#include "rtp/rtcp/sdes.hpp"
#include "rtp/rtcp/sender_report.hpp"
#include "rtp/rtcp/transport_layer_nack.hpp"

namespace {

using namespace sfu;
using namespace sfu::rtp::rtcp;

constexpr uint32_t kSsrc = 0x5e1f0a31;

// SR with two report blocks (audio + video), SDES CNAME, REMB for two SSRCs.
std::vector<uint8_t> sr_sdes_remb() {
  std::vector<uint8_t> buf(1200);
  CompoundBuilder b(buf);
  const std::array<ReportBlock, 2> blocks = {ReportBlock{0x11111111, 3, 12, 0x1a2b3, 40, 0x2b3c1234, 0x8000},
                                             ReportBlock{0x22222222, 0, 0, 0x0ffff, 9, 0x2b3c1234, 0x4000}};
  const std::array<uint32_t, 2> remb_ssrcs = {0x11111111, 0x22222222};
  b.append(SenderReport{kSsrc, {0xe89a2b3c12345678, 0x9abcdef0, 30000, 30'000'000}, blocks, {}});
  b.append(CnameSdes{kSsrc, "kGp2rV9sQ1xW4zYt"});
  b.append(Remb{{kSsrc, 0}, 2'500'000, remb_ssrcs});
  buf.resize(b.ok() ? b.size() : 0);
  return buf;
}

// RR with one block and a NACK for a burst of 20 losses across the wrap.
std::vector<uint8_t> rr_nack() {
  std::vector<uint8_t> buf(1200);
  CompoundBuilder b(buf);
  const ReportBlock block{kSsrc, 26, 140, 0x3fffe, 120, 0x2b3c1234, 0x2000};
  std::array<uint16_t, 20> lost{};
  for (size_t i = 0; i < lost.size(); ++i) lost[i] = uint16_t(65530 + i * 2);
  std::array<NackItem, 20> items{};
  const NackPackResult packed = pack_nack_items(lost, items);
  b.append(ReceiverReport{1, {&block, 1}, {}});
  b.append(TransportLayerNack{{1, kSsrc}, {items.data(), packed.items}});
  buf.resize(b.ok() ? b.size() : 0);
  return buf;
}

uint64_t sum_blocks(const ReportBlocks& blocks) {
  uint64_t acc = 0;
  for (ReportBlock b : blocks) acc += b.ssrc + uint32_t(b.cumulative_lost) + b.jitter + b.last_sr;
  return acc;
}

// Walks, classifies and parses every packet, touching every field a router
// would read. Returns a checksum (0 if anything failed to parse).
uint64_t parse_compound(Bytes datagram) {
  uint64_t acc = 0;
  CompoundReader r(datagram);
  while (auto p = r.next()) {
    switch (classify(*p)) {
      case MessageKind::sender_report: {
        auto sr = SenderReportView::parse(*p);
        if (!sr) return 0;
        acc += sr->info.ntp_timestamp + sr->info.octet_count + sum_blocks(sr->report_blocks);
        break;
      }
      case MessageKind::receiver_report: {
        auto rr = ReceiverReportView::parse(*p);
        if (!rr) return 0;
        acc += rr->ssrc + sum_blocks(rr->report_blocks);
        break;
      }
      case MessageKind::sdes: {
        auto sdes = SdesView::parse(*p);
        if (!sdes) return 0;
        for (SdesChunkView c : *sdes) acc += c.ssrc + c.cname().value_or("").size();
        break;
      }
      case MessageKind::remb: {
        auto remb = RembView::parse(*p);
        if (!remb) return 0;
        acc += remb->bitrate_bps;
        for (uint32_t s : remb->ssrcs) acc += s;
        break;
      }
      case MessageKind::nack: {
        auto nack = TransportLayerNackView::parse(*p);
        if (!nack) return 0;
        for (uint16_t seq : nack->lost_packets()) acc += seq;
        break;
      }
      default: break;
    }
  }
  return r.error() ? 0 : acc;
}

void BM_RtcpCompoundParse(benchmark::State& state) {
  const std::vector<uint8_t> datagram = state.range(0) == 0 ? sr_sdes_remb() : rr_nack();
  state.SetLabel(state.range(0) == 0 ? "SR+SDES+REMB" : "RR+NACK");
  if (datagram.empty() || parse_compound(datagram) == 0) {
    state.SkipWithError("fixture did not build or parse");
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize(parse_compound(datagram));
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(datagram.size()));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RtcpCompoundParse)->Arg(0)->Arg(1);

// Packs a loss list (bursts and isolated losses, across the wrap) into a
// NACK in an MTU-sized buffer.
void BM_NackBuild(benchmark::State& state) {
  std::vector<uint16_t> lost;
  for (uint32_t s = 65500; lost.size() < size_t(state.range(0)); s += (s % 5 == 0 ? 23 : 1)) {
    lost.push_back(uint16_t(s));
  }
  std::array<uint8_t, 1200> out{};
  for (auto _ : state) {
    size_t consumed = 0;
    benchmark::DoNotOptimize(TransportLayerNack::serialize_lost({1, kSsrc}, lost, out, &consumed));
    benchmark::DoNotOptimize(consumed);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * int64_t(lost.size()));
}
BENCHMARK(BM_NackBuild)->Arg(8)->Arg(64)->Arg(256);

}  // namespace
