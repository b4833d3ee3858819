// CPU and memory of a process from /proc (Linux): the server's, sampled
// every second by the load generator, and the load generator's own.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string_view>

namespace sfu::load {

struct ProcSample {
  double cpu_seconds = 0;  // user + system time so far
  uint64_t rss_kb = 0;     // VmRSS
};

// Reads /proc/<pid>/stat (utime, stime) and /proc/<pid>/status (VmRSS);
// nullopt when the process is gone or the files do not parse.
std::optional<ProcSample> read_proc_sample(int pid);

// utime + stime in clock ticks from the text of a /proc/<pid>/stat file
// (the command name in parentheses may contain spaces and parentheses).
std::optional<uint64_t> parse_stat_cpu_ticks(std::string_view stat);
// VmRSS in kB from the text of a /proc/<pid>/status file.
std::optional<uint64_t> parse_status_rss_kb(std::string_view status);

// The pid of a process with a TCP socket listening on 127.0.0.1:port or
// 0.0.0.0:port (/proc/net/tcp → socket inode → /proc/*/fd); nullopt when
// none is found (or it belongs to another user).
std::optional<int> find_listening_pid(uint16_t port);

// Machine-wide UDP datagrams dropped because a socket's receive buffer was
// full (RcvbufErrors in /proc/net/snmp), from the file's text / the file.
std::optional<uint64_t> parse_udp_rcvbuf_errors(std::string_view snmp);
std::optional<uint64_t> udp_rcvbuf_errors();
// The 1-minute load average (/proc/loadavg); 0 when unreadable.
double load_average();

// This process's user + system CPU seconds (getrusage).
double self_cpu_seconds();
// CPU seconds of each of this process's threads by tid (/proc/self/task).
std::map<int, double> self_thread_cpu_seconds();
// The busiest thread's share of one core between two such snapshots.
double busiest_thread_percent(const std::map<int, double>& before, const std::map<int, double>& after,
                              double wall_seconds);
// The cores this process may run on (sched_getaffinity; taskset narrows it).
int allowed_cores();

}  // namespace sfu::load
