// sfu-load's pacer (bench/load/pacer.hpp): a steady queue drains at the
// pacing rate however late the thread wakes; an idle pacer saves at most a
// 5 ms burst.
#include "bench/load/pacer.hpp"

#include <gtest/gtest.h>

#include <cstdio>

namespace sfu::load {
namespace {

const Instant kT0 = from_micros(1'000'000'000);

// A publisher queueing `media_bps` of 1,200-byte packets, its thread waking
// every `wake`: how many bytes the pacer lets out in `run`, and the largest
// backlog.
struct Drain {
  double sent_bytes = 0;
  double max_backlog = 0;
};
Drain run(Duration wake, Duration run, double media_bps, double pacing_factor) {
  Pacer p;
  p.set_rate(pacing_factor * media_bps / 8);
  Drain d;
  double queued = 0, produced = 0;
  for (Instant now = kT0; now < kT0 + run; now += wake) {
    const double due = media_bps / 8 * std::chrono::duration<double>(now - kT0).count();
    queued += due - produced;
    produced = due;
    while (queued >= 1200 && p.may_send(now)) {
      p.on_sent(1200);
      queued -= 1200;
      d.sent_bytes += 1200;
    }
    if (queued < 1200) p.on_idle();
    else p.on_out_of_budget();
    d.max_backlog = std::max(d.max_backlog, queued);
  }
  return d;
}

TEST(Pacer, AThreadWakingLateStillSendsEverythingQueued) {
  for (const auto wake : {milliseconds(1), milliseconds(10), milliseconds(20), milliseconds(50)}) {
    const Drain d = run(wake, seconds(10), 4'000'000, 2.5);
    const double offered = 4'000'000.0 / 8 * 10;
    std::printf("wake every %lld ms: %.1f %% of 10 s of 4 Mbit/s sent, largest backlog %.0f bytes\n",
                (long long)std::chrono::duration_cast<milliseconds>(wake).count(), 100 * d.sent_bytes / offered,
                d.max_backlog);
    EXPECT_GE(d.sent_bytes, 0.99 * offered) << "wake every " << wake.count();
    // Never more behind than one wake-up's worth of media (plus a packet).
    EXPECT_LE(d.max_backlog, 4'000'000.0 / 8 * std::chrono::duration<double>(wake).count() + 2400);
  }
}

TEST(Pacer, AnIdlePacerSavesAtMostAFiveMillisecondBurst) {
  Pacer p;
  p.set_rate(1'000'000);  // 1 MB/s: 5,000 bytes per 5 ms
  EXPECT_FALSE(p.may_send(kT0)) << "no budget before any time has passed";
  p.on_idle();
  // Quiet for a second, then a burst arrives: 5 ms of budget (+ a packet).
  double sent = 0;
  while (p.may_send(kT0 + seconds(1))) {
    p.on_sent(1200);
    sent += 1200;
  }
  EXPECT_GE(sent, 5000);
  EXPECT_LE(sent, 5000 + 1500 + 1200);
  p.on_out_of_budget();
  // Backlogged: back when the deficit is paid, about 1.2 ms per packet.
  const Instant next = p.next_send();
  EXPECT_GT(next, kT0 + seconds(1));
  EXPECT_LE(next, kT0 + seconds(1) + milliseconds(2));
  EXPECT_TRUE(p.may_send(next));
}

TEST(Pacer, BackloggedTimeIsOwedInFullUpToOneSecond) {
  Pacer p;
  p.set_rate(1'000'000);
  p.may_send(kT0 - milliseconds(5));
  ASSERT_TRUE(p.may_send(kT0));  // 5 ms of budget
  p.on_sent(15'000);             // a key frame: 10,000 bytes short
  p.on_out_of_budget();
  // The thread comes back 40 ms late: 40 ms of budget, not 5.
  double sent = 0;
  while (p.may_send(kT0 + milliseconds(50))) {
    p.on_sent(1000);
    sent += 1000;
  }
  EXPECT_NEAR(sent, 50'000 - 10'000, 1000);
  p.on_out_of_budget();
  // Ten seconds away: at most a second is owed.
  sent = 0;
  while (p.may_send(kT0 + seconds(10))) {
    p.on_sent(10'000);
    sent += 10'000;
  }
  EXPECT_LE(sent, 1'000'000 + 1500 + 10'000);
}

}  // namespace
}  // namespace sfu::load
