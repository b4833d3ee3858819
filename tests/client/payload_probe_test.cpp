// The payload probe (bench/client/payload_probe.hpp): its fill is written and
// checked as a window of one periodic pattern (memcpy / memcmp); here against
// the byte-by-byte definition — first byte from the probe's fields, each next
// one 0x9d more, mod 256 — for fills around the chunk and period sizes, and
// every single-byte corruption is caught wherever it lands.
#include "bench/client/payload_probe.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace sfu::client {
namespace {

uint8_t reference_seed(const PayloadProbe& p) {
  return uint8_t(p.frame_counter * 131u + p.packet_index * 17u + p.layer * 7u + 1u);
}

TEST(PayloadProbe, FillIsTheArithmeticSequenceForEverySeedAndLength) {
  for (const size_t fill : {0, 1, 2, 255, 256, 257, 1000, 1180, 2047, 2048, 2049, 4096, 5000}) {
    for (uint32_t frame = 0; frame < 300; frame += 7) {
      PayloadProbe p{.layer = uint8_t(frame % 3), .keyframe = frame % 2 == 0, .temporal_id = 1, .frame_counter = frame,
                     .send_time_us = 123456789, .packet_index = uint16_t(frame % 5), .packet_count = 5};
      std::vector<uint8_t> buf(kProbeSize + fill);
      ASSERT_EQ(write_probe(buf, p, fill), kProbeSize + fill);
      uint8_t v = reference_seed(p);
      for (size_t i = 0; i < fill; ++i, v = uint8_t(v + 0x9d)) {
        ASSERT_EQ(buf[kProbeSize + i], v) << "fill " << fill << " frame " << frame << " byte " << i;
      }
      const ProbeResult r = read_probe(buf);
      ASSERT_EQ(r.status, ProbeStatus::ok) << "fill " << fill << " frame " << frame;
      EXPECT_EQ(r.fill, fill);
      EXPECT_EQ(r.probe.frame_counter, frame);
    }
  }
}

TEST(PayloadProbe, AnyChangedFillByteIsCorrupt) {
  const size_t fill = 4500;  // three chunks
  PayloadProbe p{.layer = 2, .frame_counter = 77, .send_time_us = 1, .packet_index = 3, .packet_count = 9};
  std::vector<uint8_t> buf(kProbeSize + fill);
  write_probe(buf, p, fill);
  for (size_t i = 0; i < fill; i += 97) {
    auto bad = buf;
    bad[kProbeSize + i] ^= 0x01;
    EXPECT_EQ(read_probe(bad).status, ProbeStatus::corrupt) << "byte " << i;
  }
  auto last = buf;
  last.back() ^= 0x80;
  EXPECT_EQ(read_probe(last).status, ProbeStatus::corrupt);
  // A fill shifted by one byte (a packet spliced off by one) does not match either.
  std::vector<uint8_t> shifted(buf.begin(), buf.end());
  shifted.erase(shifted.begin() + kProbeSize);
  EXPECT_EQ(read_probe(shifted).status, ProbeStatus::corrupt);
}

// Without the fill check (a receiver outside sfu-load's validated sample)
// the probe's fields are still read and checked, the fill bytes are not.
TEST(PayloadProbe, WithoutTheFillCheckOnlyTheFieldsAreRead) {
  const size_t fill = 1000;
  PayloadProbe p{.layer = 1, .keyframe = true, .frame_counter = 5, .send_time_us = 42, .packet_index = 0, .packet_count = 2};
  std::vector<uint8_t> buf(kProbeSize + fill);
  write_probe(buf, p, fill);
  buf[kProbeSize + 500] ^= 0xff;
  EXPECT_EQ(read_probe(buf).status, ProbeStatus::corrupt);
  const ProbeResult r = read_probe(buf, /*check_fill=*/false);
  EXPECT_EQ(r.status, ProbeStatus::ok);
  EXPECT_EQ(r.probe, p);
  EXPECT_EQ(r.fill, fill);
  PayloadProbe bad = p;
  bad.packet_index = 2;  // >= packet_count
  write_probe(buf, bad, fill);
  EXPECT_EQ(read_probe(buf, false).status, ProbeStatus::bad_fields);
}

}  // namespace
}  // namespace sfu::client
