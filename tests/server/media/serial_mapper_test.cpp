#include "server/media/serial_mapper.hpp"

#include <gtest/gtest.h>

namespace sfu::server::media {
namespace {

TEST(SimulcastForwarderSerialMapper, DroppedNumbersLeaveNoHoleAndLossKeepsAGap) {
  SerialMapper<64> m;
  m.begin(16);
  EXPECT_EQ(m.forward(m.locate(65534)), 65534u);  // first epoch: out = in
  m.drop(m.locate(65535), false);                 // filtered: no hole
  EXPECT_EQ(m.forward(m.locate(0)), 65535u);      // wraps with the input
  EXPECT_EQ(m.forward(m.locate(2)), 1u);          // input 1 lost: gap at out 0
  EXPECT_EQ(m.locate(2).order, SerialOrder::duplicate);
  const SerialPosition late = m.locate(1);
  EXPECT_EQ(late.order, SerialOrder::late);
  EXPECT_EQ(m.forward(late), 0u);  // the late packet fills its gap
  EXPECT_EQ(m.locate(65535).order, SerialOrder::duplicate);
  EXPECT_EQ(m.locate(65000).order, SerialOrder::stale);  // before the epoch
}

TEST(SimulcastForwarderSerialMapper, NewEpochContinuesAtLastPlusOne) {
  SerialMapper<64> m;
  m.begin(16);
  for (uint16_t s = 100; s < 110; ++s) m.forward(m.locate(s));
  m.begin(16);
  EXPECT_EQ(m.forward(m.locate(40000)), 110u);
  EXPECT_EQ(m.locate(39999).order, SerialOrder::stale);  // older than the switch
  EXPECT_EQ(m.forward(m.locate(40001)), 111u);
  m.drop(m.locate(40002), false);
  m.drop(m.locate(40005), true);  // 40003/40004 absorbed with the dropped frame
  EXPECT_TRUE(m.locate(40004).removed);
  EXPECT_EQ(m.forward(m.locate(40006)), 112u);
}

TEST(SimulcastForwarderSerialMapper, SevenBitSpaceAndJumps) {
  SerialMapper<32> m;
  m.begin(7);
  EXPECT_EQ(m.forward(m.locate(126)), 126u);
  EXPECT_EQ(m.forward(m.locate(127)), 127u);
  EXPECT_EQ(m.forward(m.locate(0)), 0u);
  EXPECT_EQ(m.locate(100).order, SerialOrder::stale);  // 28 behind, before the epoch
  EXPECT_EQ(m.locate(40).order, SerialOrder::first);   // 40 ahead: beyond the window, restarts
  EXPECT_EQ(m.forward(m.locate(40)), 1u);
}

}  // namespace
}  // namespace sfu::server::media
