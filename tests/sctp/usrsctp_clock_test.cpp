// usrsctp reads the wall clock (gettimeofday, its only clock call) for RTT
// samples, for deciding which chunks a T3 timeout retransmits (only those
// sent at least one RTO ago) and for heartbeat pacing. On a virtual clock
// those real readings barely move, so without help a simulation would never
// retransmit. This test binary interposes gettimeofday: while the
// simulations run, usrsctp (and only it: nothing else here calls
// gettimeofday) sees the virtual clock; otherwise the real one.
#include <gtest/gtest.h>
#include <sys/time.h>

#include <ctime>

#include "tests/sctp/sim_pair.hpp"

extern "C" int gettimeofday(struct timeval* __restrict tv, void* __restrict /*tz*/) noexcept {
  int64_t us = 0;
  if (sfu::sctp::test::usrsctp_sees_virtual_time().load(std::memory_order_relaxed)) {
    us = sfu::to_micros(sfu::sctp::test::virtual_now());
  } else {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    us = int64_t(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
  }
  tv->tv_sec = time_t(us / 1'000'000);
  tv->tv_usec = suseconds_t(us % 1'000'000);
  return 0;
}

namespace sfu::sctp::test {
namespace {

TEST(UsrsctpClock, FollowsTheVirtualClockInSimulations) {
  usrsctp_sees_virtual_time() = true;
  timeval a{}, b{};
  gettimeofday(&a, nullptr);
  virtual_now() += seconds(3);
  gettimeofday(&b, nullptr);
  EXPECT_EQ(b.tv_sec - a.tv_sec, 3);
}

// A DATA chunk lost once is retransmitted on the virtual clock's T3 timer.
TEST(UsrsctpClock, RetransmitsOnVirtualTime) {
  SimPair sim(client::LinkProfile{0.0, milliseconds(20)}, 11);
  ASSERT_TRUE(sim.connect());
  sim.set_profile(client::LinkProfile{1.0, milliseconds(20)});
  const auto s = sim.a.assoc.open_channel(ChannelParams{});
  ASSERT_TRUE(s.ok());
  sim.run_for(milliseconds(50));  // the OPEN is lost
  sim.set_profile(client::LinkProfile{0.0, milliseconds(20)});
  EXPECT_TRUE(sim.run_until([&] { return sim.b.opened.count(*s) > 0; }, seconds(5)));
}

}  // namespace
}  // namespace sfu::sctp::test
