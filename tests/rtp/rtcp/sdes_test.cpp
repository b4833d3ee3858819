// RFC 3550 §6.5 source description packets.
#include "rtp/rtcp/sdes.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "tests/rtp/rtcp/rtcp_test_util.hpp"

namespace sfu::rtp::rtcp {
namespace {

using test::bytes_of;
using test::packet_of;
using test::serialize;

// One chunk with a 16-character CNAME, as Chrome sends it.
constexpr uint8_t kChromeSdes[] = {
    0x81, 0xca, 0x00, 0x06,  // V=2 P=0 SC=1, PT=SDES(202), length 6 (28 bytes)
    0x12, 0x34, 0x56, 0x78,  // chunk 1: SSRC
    0x01, 0x10,              //   CNAME, length 16
    'k',  'G',  'p',  '2',   //   "kGp2rV9sQ1xW4zYt"
    'r',  'V',  '9',  's',   //
    'Q',  '1',  'x',  'W',   //
    '4',  'z',  'Y',  't',   //
    0x00, 0x00,              //   END, then one null to the 32-bit boundary
};

TEST(SdesTest, Rfc3550Section65ChromeCname) {
  auto sdes = SdesView::parse(packet_of(kChromeSdes));
  ASSERT_TRUE(sdes.ok());
  ASSERT_EQ(sdes->size(), 1u);
  const SdesChunkView chunk = *sdes->begin();
  EXPECT_EQ(chunk.ssrc, 0x12345678u);
  EXPECT_EQ(chunk.cname(), "kGp2rV9sQ1xW4zYt");
  EXPECT_EQ(sdes->cname(0x12345678), "kGp2rV9sQ1xW4zYt");
  EXPECT_EQ(sdes->cname(0x87654321), std::nullopt);
}

TEST(SdesTest, CnameBuilderMatchesChrome) {
  const CnameSdes sdes{0x12345678, "kGp2rV9sQ1xW4zYt"};
  EXPECT_EQ(sdes.serialized_size(), sizeof(kChromeSdes));
  EXPECT_EQ(serialize(sdes), bytes_of(kChromeSdes));
}

// RFC 3550 §6.5: when the items end on a 32-bit boundary the END octet
// needs a whole extra word (END plus three nulls).
TEST(SdesTest, TerminatorNeedsAnExtraWord) {
  constexpr uint8_t kSdes[] = {
      0x81, 0xca, 0x00, 0x03,  // SC=1, PT=SDES, length 3 (16 bytes)
      0x00, 0x00, 0x00, 0x07,  // chunk 1: SSRC 7
      0x01, 0x02, 'a',  'b',   //   CNAME "ab": items end on the boundary
      0x00, 0x00, 0x00, 0x00,  //   END and three nulls
  };
  EXPECT_EQ(serialize(CnameSdes{7, "ab"}), bytes_of(kSdes));
  auto sdes = SdesView::parse(packet_of(kSdes));
  ASSERT_TRUE(sdes.ok());
  EXPECT_EQ(sdes->cname(7), "ab");
}

constexpr uint8_t kTwoChunks[] = {
    0x82, 0xca, 0x00, 0x08,  // SC=2, PT=SDES, length 8 (36 bytes)
    0x00, 0x00, 0x00, 0x01,  // chunk 1: SSRC 1
    0x01, 0x03, 'a',  'b',   //   CNAME "abc"
    'c',  0x02, 0x04, 'J',   //   NAME "Jane"
    'a',  'n',  'e',  0x06,  //   TOOL
    0x03, 's',  'f',  'u',   //   "sfu"
    0x00, 0x00, 0x00, 0x00,  //   END and three nulls
    0x00, 0x00, 0x00, 0x02,  // chunk 2: SSRC 2
    0x02, 0x01, 'x',  0x00,  //   NAME "x", END (no CNAME in this chunk)
};

TEST(SdesTest, SeveralChunksAndItems) {
  auto sdes = SdesView::parse(packet_of(kTwoChunks));
  ASSERT_TRUE(sdes.ok());
  ASSERT_EQ(sdes->size(), 2u);
  std::vector<std::pair<uint32_t, std::vector<SdesItem>>> seen;
  for (SdesChunkView c : *sdes) {
    seen.push_back({c.ssrc, {}});
    for (SdesItem it : c.items) seen.back().second.push_back(it);
  }
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].first, 1u);
  EXPECT_EQ(seen[0].second, (std::vector<SdesItem>{{sdes_type::kCname, "abc"},
                                                    {sdes_type::kName, "Jane"},
                                                    {sdes_type::kTool, "sfu"}}));
  EXPECT_EQ(seen[1].first, 2u);
  EXPECT_EQ(seen[1].second, (std::vector<SdesItem>{{sdes_type::kName, "x"}}));
  EXPECT_EQ(sdes->cname(1), "abc");
  EXPECT_EQ(sdes->cname(2), std::nullopt);  // chunk present, no CNAME
}

TEST(SdesTest, RoundTripByteExact) {
  auto sdes = SdesView::parse(packet_of(kTwoChunks));
  ASSERT_TRUE(sdes.ok());
  std::vector<std::vector<SdesItem>> items;
  std::vector<uint32_t> ssrcs;
  for (SdesChunkView c : *sdes) {
    ssrcs.push_back(c.ssrc);
    items.emplace_back(c.items.begin(), c.items.end());
  }
  std::vector<SdesChunk> chunks;
  for (size_t i = 0; i < items.size(); ++i) chunks.push_back({ssrcs[i], items[i]});
  EXPECT_EQ(serialize(Sdes{chunks}), bytes_of(kTwoChunks));
}

TEST(SdesTest, EmptyChunkAndEmptyPacket) {
  constexpr uint8_t kSdes[] = {
      0x81, 0xca, 0x00, 0x02,  // SC=1, PT=SDES, length 2
      0x00, 0x00, 0x00, 0x09,  // chunk 1: SSRC 9
      0x00, 0x00, 0x00, 0x00,  //   END and three nulls: no items
  };
  auto sdes = SdesView::parse(packet_of(kSdes));
  ASSERT_TRUE(sdes.ok());
  ASSERT_EQ(sdes->size(), 1u);
  const SdesChunkView c = *sdes->begin();
  EXPECT_EQ(c.items.begin(), c.items.end());
  const SdesChunk chunk{9, {}};
  EXPECT_EQ(serialize(Sdes{{&chunk, 1}}), bytes_of(kSdes));

  constexpr uint8_t kEmpty[] = {0x80, 0xca, 0x00, 0x00};  // SC=0, PT=SDES, length 0
  auto empty = SdesView::parse(packet_of(kEmpty));
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->size(), 0u);
  EXPECT_EQ(serialize(Sdes{}), bytes_of(kEmpty));
}

TEST(SdesTest, ItemOverrunningThePacket) {
  constexpr uint8_t kSdes[] = {
      0x81, 0xca, 0x00, 0x02,  // SC=1, PT=SDES, length 2
      0x00, 0x00, 0x00, 0x01,  // chunk 1: SSRC 1
      0x01, 0x09, 'a',  'b',   //   CNAME claims 9 octets, 2 present
  };
  auto sdes = SdesView::parse(packet_of(kSdes));
  ASSERT_FALSE(sdes.ok());
  EXPECT_EQ(sdes.error(), ParseError::bad_length);
}

TEST(SdesTest, ItemLengthOctetMissing) {
  constexpr uint8_t kSdes[] = {
      0x81, 0xca, 0x00, 0x02,  // SC=1, PT=SDES, length 2
      0x00, 0x00, 0x00, 0x01,  // chunk 1: SSRC 1
      0x01, 0x01, 'a',  0x01,  //   CNAME "a", then an item cut before its length
  };
  auto sdes = SdesView::parse(packet_of(kSdes));
  ASSERT_FALSE(sdes.ok());
  EXPECT_EQ(sdes.error(), ParseError::bad_length);
}

TEST(SdesTest, ScClaimsMoreChunksThanPresent) {
  std::vector<uint8_t> sdes = bytes_of(kChromeSdes);
  sdes[0] = 0x82;  // SC=2
  auto r = SdesView::parse(packet_of(sdes));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), ParseError::bad_length);
}

TEST(SdesTest, MissingEndOctet) {
  constexpr uint8_t kSdes[] = {
      0x81, 0xca, 0x00, 0x02,  // SC=1, PT=SDES, length 2
      0x00, 0x00, 0x00, 0x01,  // chunk 1: SSRC 1
      0x01, 0x02, 'a',  'b',   //   CNAME "ab", then the packet ends: no END
  };
  auto sdes = SdesView::parse(packet_of(kSdes));
  ASSERT_FALSE(sdes.ok());
  EXPECT_EQ(sdes.error(), ParseError::truncated);
}

TEST(SdesTest, NonNullPaddingAfterEnd) {
  std::vector<uint8_t> sdes = bytes_of(kChromeSdes);
  sdes.back() = 0x20;  // the pad octet after END must be null
  auto r = SdesView::parse(packet_of(sdes));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), ParseError::bad_padding);
}

TEST(SdesTest, WrongPacketType) {
  std::vector<uint8_t> sdes = bytes_of(kChromeSdes);
  sdes[1] = 0xcb;  // PT=BYE
  auto r = SdesView::parse(packet_of(sdes));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), ParseError::bad_type);
}

TEST(SdesTest, BuilderLimits) {
  std::vector<uint8_t> out(2048);
  const std::string long_name(256, 'x');
  EXPECT_EQ((CnameSdes{1, long_name}.serialize_to(out)), 0u);
  EXPECT_EQ((CnameSdes{1, std::string_view(long_name).substr(0, 255)}.serialize_to(out)), 4u + 4 + 260);
  const SdesItem end_item{sdes_type::kEnd, "x"};
  const SdesChunk bad_chunk{1, {&end_item, 1}};
  EXPECT_EQ((Sdes{{&bad_chunk, 1}}.serialize_to(out)), 0u);  // type 0 is END, not an item
  std::array<SdesChunk, kMaxSdesChunks + 1> many{};
  EXPECT_EQ(Sdes{many}.serialize_to(out), 0u);
  EXPECT_EQ(Sdes{std::span(many).first(kMaxSdesChunks)}.serialize_to(out), 4u + 31 * 8);
  std::array<uint8_t, 27> small{};
  EXPECT_EQ((CnameSdes{0x12345678, "kGp2rV9sQ1xW4zYt"}.serialize_to(small)), 0u);
}

}  // namespace
}  // namespace sfu::rtp::rtcp
