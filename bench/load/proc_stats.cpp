#include "bench/load/proc_stats.hpp"

#include <dirent.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace sfu::load {

namespace {

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::optional<uint64_t> parse_stat_cpu_ticks(std::string_view stat) {
  // pid (comm) state ppid ... : fields after the last ')' start with field 3.
  const size_t close = stat.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  std::istringstream in{std::string(stat.substr(close + 1))};
  std::string field;
  uint64_t utime = 0, stime = 0;
  // Field 3 is the first after ')'; utime is field 14, stime 15.
  for (int f = 3; f <= 15; ++f) {
    if (!(in >> field)) return std::nullopt;
    if (f == 14 || f == 15) {
      char* end = nullptr;
      const unsigned long long v = std::strtoull(field.c_str(), &end, 10);
      if (*end != '\0') return std::nullopt;
      (f == 14 ? utime : stime) = v;
    }
  }
  return utime + stime;
}

std::optional<uint64_t> parse_status_rss_kb(std::string_view status) {
  const size_t at = status.find("VmRSS:");
  if (at == std::string_view::npos) return std::nullopt;
  std::istringstream in{std::string(status.substr(at + 6))};
  uint64_t kb = 0;
  if (!(in >> kb)) return std::nullopt;
  return kb;
}

std::optional<ProcSample> read_proc_sample(int pid) {
  const std::string base = "/proc/" + std::to_string(pid);
  auto stat = read_file(base + "/stat");
  auto status = read_file(base + "/status");
  if (!stat || !status) return std::nullopt;
  auto ticks = parse_stat_cpu_ticks(*stat);
  auto rss = parse_status_rss_kb(*status);
  if (!ticks || !rss) return std::nullopt;
  static const long hz = ::sysconf(_SC_CLK_TCK);
  return ProcSample{double(*ticks) / double(hz > 0 ? hz : 100), *rss};
}

std::optional<int> find_listening_pid(uint16_t port) {
  std::vector<std::string> inodes;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream ls(line);
      std::string sl, local, remote, state, queues, timer, retr, uid, timeout, inode;
      if (!(ls >> sl >> local >> remote >> state >> queues >> timer >> retr >> uid >> timeout >> inode)) continue;
      if (state != "0A") continue;  // TCP_LISTEN
      const size_t colon = local.rfind(':');
      if (colon == std::string::npos) continue;
      if (std::strtoul(local.substr(colon + 1).c_str(), nullptr, 16) != port) continue;
      inodes.push_back("socket:[" + inode + "]");
    }
  }
  if (inodes.empty()) return std::nullopt;
  DIR* proc = ::opendir("/proc");
  if (!proc) return std::nullopt;
  std::optional<int> found;
  while (dirent* e = ::readdir(proc)) {
    const int pid = std::atoi(e->d_name);
    if (pid <= 0 || pid == ::getpid()) continue;
    const std::string fd_dir = "/proc/" + std::string(e->d_name) + "/fd";
    DIR* fds = ::opendir(fd_dir.c_str());
    if (!fds) continue;
    while (dirent* f = ::readdir(fds)) {
      char target[256];
      const std::string link = fd_dir + "/" + f->d_name;
      const ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
      if (n <= 0) continue;
      target[n] = '\0';
      for (const auto& inode : inodes) {
        if (inode == target) found = pid;
      }
      if (found) break;
    }
    ::closedir(fds);
    if (found) break;
  }
  ::closedir(proc);
  return found;
}

std::optional<uint64_t> parse_udp_rcvbuf_errors(std::string_view snmp) {
  // Two "Udp:" lines: the field names, then the values.
  const size_t names_at = snmp.find("\nUdp: ");
  if (names_at == std::string_view::npos) return std::nullopt;
  const size_t values_at = snmp.find("\nUdp: ", names_at + 1);
  if (values_at == std::string_view::npos) return std::nullopt;
  auto line = [&](size_t at) {
    const size_t end = snmp.find('\n', at + 1);
    return std::string(snmp.substr(at + 6, end == std::string_view::npos ? std::string_view::npos : end - at - 6));
  };
  std::istringstream names(line(names_at)), values(line(values_at));
  std::string name;
  uint64_t value = 0;
  while (names >> name) {
    if (!(values >> value)) return std::nullopt;
    if (name == "RcvbufErrors") return value;
  }
  return std::nullopt;
}

std::optional<uint64_t> udp_rcvbuf_errors() {
  auto text = read_file("/proc/net/snmp");
  if (!text) return std::nullopt;
  return parse_udp_rcvbuf_errors("\n" + *text);
}

double load_average() {
  auto text = read_file("/proc/loadavg");
  return text ? std::atof(text->c_str()) : 0.0;
}

double self_cpu_seconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

std::map<int, double> self_thread_cpu_seconds() {
  std::map<int, double> out;
  DIR* dir = ::opendir("/proc/self/task");
  if (!dir) return out;
  const double tick = double(::sysconf(_SC_CLK_TCK));
  while (dirent* e = ::readdir(dir)) {
    const int tid = std::atoi(e->d_name);
    if (tid <= 0) continue;
    auto stat = read_file(std::string("/proc/self/task/") + e->d_name + "/stat");
    if (!stat) continue;
    if (auto ticks = parse_stat_cpu_ticks(*stat)) out[tid] = double(*ticks) / tick;
  }
  ::closedir(dir);
  return out;
}

double busiest_thread_percent(const std::map<int, double>& before, const std::map<int, double>& after,
                              double wall_seconds) {
  double busiest = 0;
  for (const auto& [tid, cpu] : after) {
    auto it = before.find(tid);
    busiest = std::max(busiest, cpu - (it == before.end() ? 0.0 : it->second));
  }
  return 100.0 * busiest / std::max(1e-3, wall_seconds);
}

int allowed_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) != 0) return 1;
  return std::max(1, CPU_COUNT(&set));
}

}  // namespace sfu::load
