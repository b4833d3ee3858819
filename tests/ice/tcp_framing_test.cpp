#include "ice/tcp_framing.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace sfu::ice {
namespace {

std::vector<uint8_t> frame(std::vector<uint8_t> payload) {
  std::vector<uint8_t> out(2 + payload.size());
  EXPECT_TRUE(write_tcp_frame_header(out, payload.size()));
  std::copy(payload.begin(), payload.end(), out.begin() + 2);
  return out;
}

TEST(TcpFraming, Rfc4571TwoFramesInOneRead) {
  std::vector<uint8_t> stream = {0x00, 0x03, 0xaa, 0xbb, 0xcc,  // LENGTH=3, payload
                                 0x00, 0x01, 0xdd};             // LENGTH=1, payload
  TcpDeframer d;
  EXPECT_EQ(d.push(stream), stream.size());
  auto a = d.next();
  ASSERT_TRUE(a);
  EXPECT_EQ(std::vector<uint8_t>(a->begin(), a->end()), (std::vector<uint8_t>{0xaa, 0xbb, 0xcc}));
  auto b = d.next();
  ASSERT_TRUE(b);
  EXPECT_EQ((*b)[0], 0xdd);
  EXPECT_FALSE(d.next());
  EXPECT_EQ(d.buffered(), 0u);
}

TEST(TcpFraming, ByteAtATimeReassembly) {
  std::vector<uint8_t> payload(1300);
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = uint8_t(i * 7);
  const auto stream = frame(payload);
  TcpDeframer d;
  for (size_t i = 0; i + 1 < stream.size(); ++i) {
    ASSERT_EQ(d.push(Bytes(&stream[i], 1)), 1u);
    ASSERT_FALSE(d.next()) << i;
  }
  d.push(Bytes(&stream.back(), 1));
  auto f = d.next();
  ASSERT_TRUE(f);
  EXPECT_EQ(std::vector<uint8_t>(f->begin(), f->end()), payload);
}

TEST(TcpFraming, MaximumFrameAndBackpressure) {
  std::vector<uint8_t> big(TcpDeframer::kMaxFrame, 0x5a);
  auto stream = frame(big);
  auto second = frame({1, 2});
  stream.insert(stream.end(), second.begin(), second.end());
  TcpDeframer d;
  size_t taken = d.push(stream);
  EXPECT_EQ(taken, TcpDeframer::kMaxFrame + 2);  // buffer full: the rest waits
  auto f = d.next();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->size(), TcpDeframer::kMaxFrame);
  taken += d.push(Bytes(stream).subspan(taken));
  EXPECT_EQ(taken, stream.size());
  auto g = d.next();
  ASSERT_TRUE(g);
  EXPECT_EQ(g->size(), 2u);
}

TEST(TcpFraming, ZeroLengthFrameIsEmptySpan) {
  const std::vector<uint8_t> stream = {0x00, 0x00, 0x00, 0x01, 0x42};
  TcpDeframer d;
  d.push(stream);
  auto e = d.next();
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->empty());
  auto f = d.next();
  ASSERT_TRUE(f);
  EXPECT_EQ((*f)[0], 0x42);
}

TEST(TcpFraming, OversizedPacketCannotBeFramed) {
  std::array<uint8_t, 2> hdr{};
  EXPECT_FALSE(write_tcp_frame_header(hdr, 0x10000));
  EXPECT_FALSE(write_tcp_frame_header(MutBytes(hdr).first(1), 10));
}

}  // namespace
}  // namespace sfu::ice
