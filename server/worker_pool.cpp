#include "server/worker_pool.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace sfu::server {

uint32_t default_worker_count() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}

namespace {

bool is_wildcard(const ice::Address& a) {
  for (size_t i = 0; i < a.ip_size(); ++i)
    if (a.ip[i] != 0) return false;
  return true;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("media: cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

dtls::Certificate load_certificate(const MediaConfig& config) {
  if (config.dtls_certificate_file.empty()) return dtls::Certificate::generate();
  auto c = dtls::Certificate::load_pem(read_file(config.dtls_certificate_file), read_file(config.dtls_key_file));
  if (!c) throw std::runtime_error("media: DTLS certificate " + config.dtls_certificate_file + ": " + c.error());
  return std::move(c.value());
}

}  // namespace

WorkerPool::WorkerPool(const MediaConfig& config) {
  const uint32_t count = config.workers ? config.workers : default_worker_count();
  if (config.announced.empty() && is_wildcard(config.bind))
    throw std::runtime_error("media: bind address " + ice::ip_to_string(config.bind) +
                             " is a wildcard: set an announced address for the candidates");
  if (uint32_t(config.bind.port) + count - 1 > 65535)
    throw std::runtime_error("media: base port " + std::to_string(config.bind.port) + " + " + std::to_string(count) +
                             " workers does not fit below 65536");
  dtls_context_ = dtls::Context::create(std::make_shared<dtls::Certificate>(load_certificate(config)));
  for (uint32_t i = 0; i < count; ++i) {
    WorkerConfig wc;
    wc.index = i;
    wc.udp_bind = config.bind;
    // Base port 0: every socket gets an ephemeral port (tests, several nodes on one host).
    wc.udp_bind.port = config.bind.port ? uint16_t(config.bind.port + i) : 0;
    if (config.ice_tcp) {
      wc.tcp_bind = wc.udp_bind;
    } else {
      wc.tcp_bind.reset();
    }
    wc.socket_buffer_bytes = config.socket_buffer_bytes;
    wc.udp_gso = config.udp_gso;
    auto media = std::make_unique<WorkerMedia>();
    media_.push_back(media.get());
    workers_.push_back(std::make_unique<Worker>(wc, std::move(media)));

    std::vector<ice::Candidate> cands;
    const auto& announced = config.announced.empty() ? std::vector<ice::Address>{config.bind} : config.announced;
    const Worker& w = *workers_.back();
    uint32_t rank = 0;
    for (auto a : announced) {
      a.port = w.udp_address().port;
      cands.push_back(ice::make_host_candidate(ice::CandidateProtocol::udp, a, rank++));
    }
    if (auto tcp = w.tcp_address()) {
      rank = 0;
      for (auto a : announced) {
        a.port = tcp->port;
        cands.push_back(ice::make_host_candidate(ice::CandidateProtocol::tcp, a, rank++));
      }
    }
    candidates_.push_back(std::move(cands));
  }
}

WorkerPool::~WorkerPool() { stop(); }

void WorkerPool::start() {
  for (auto& w : workers_) w->start();
}

void WorkerPool::stop() {
  for (auto& w : workers_) w->stop();
}

}  // namespace sfu::server
