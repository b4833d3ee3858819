// /proc parsing for the server's CPU and memory samples (proc(5)).
#include "bench/load/proc_stats.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

namespace sfu::load {
namespace {

TEST(ProcStats, StatFieldsAfterTheCommandName) {
  // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
  const char* stat = "1234 (sfu (worker) x) S 1 1234 1234 0 -1 4194560 500 0 0 0 250 75 0 0 20 0 3 0 100 0 0";
  EXPECT_EQ(parse_stat_cpu_ticks(stat), 325u);
  EXPECT_FALSE(parse_stat_cpu_ticks("1234 (sfu) S 1 2").has_value());
  EXPECT_FALSE(parse_stat_cpu_ticks("garbage").has_value());
}

TEST(ProcStats, VmRss) {
  EXPECT_EQ(parse_status_rss_kb("Name:\tsfu\nVmPeak:\t  1000 kB\nVmRSS:\t   20480 kB\nThreads: 3\n"), 20480u);
  EXPECT_FALSE(parse_status_rss_kb("Name:\tsfu\n").has_value());
}

TEST(ProcStats, OwnProcess) {
  auto s = read_proc_sample(int(::getpid()));
  ASSERT_TRUE(s.has_value());
  EXPECT_GT(s->rss_kb, 0u);
  EXPECT_GE(self_cpu_seconds(), 0.0);
  EXPECT_FALSE(read_proc_sample(0x3fffffff).has_value());
}

}  // namespace
}  // namespace sfu::load

namespace sfu::load {
namespace {

TEST(ProcStats, BusiestThread) {
  const std::map<int, double> before{{10, 1.0}, {11, 5.0}};
  const std::map<int, double> after{{10, 1.5}, {11, 5.2}, {12, 0.9}};  // 12 started in between
  EXPECT_DOUBLE_EQ(busiest_thread_percent(before, after, 1.0), 90.0);
  EXPECT_DOUBLE_EQ(busiest_thread_percent(before, after, 2.0), 45.0);
}

TEST(ProcStats, OwnThreads) {
  const auto threads = self_thread_cpu_seconds();
  EXPECT_EQ(threads.count(int(::getpid())), 1u);  // the main thread's tid is the pid
  EXPECT_GE(allowed_cores(), 1);
}

TEST(ProcStats, UdpRcvbufErrors) {
  const char* snmp =
      "Ip: Forwarding DefaultTTL\n"
      "Ip: 1 64\n"
      "Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors\n"
      "Udp: 4244332 146 555681 4817949 555680 0\n"
      "UdpLite: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors\n"
      "UdpLite: 0 0 0 0 0 0\n";
  EXPECT_EQ(parse_udp_rcvbuf_errors(std::string("\n") + snmp), 555680u);
  EXPECT_FALSE(parse_udp_rcvbuf_errors("\nIp: 1 2\n").has_value());
  EXPECT_TRUE(udp_rcvbuf_errors().has_value());
}

}  // namespace
}  // namespace sfu::load
