// The media workers of a node: one per core by default, each on its own UDP
// and ICE-TCP port (base + index), and the host candidates each announces.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dtls/certificate.hpp"
#include "dtls/session.hpp"
#include "ice/candidate.hpp"
#include "server/transport_host.hpp"
#include "server/worker_media.hpp"
#include "server/worker.hpp"

namespace sfu::server {

struct MediaConfig {
  uint32_t workers = 0;  // 0 = one per core
  // Local address the media sockets bind to; "0.0.0.0" / "::" for all.
  ice::Address bind = ice::Address::v4(0x7f000001u, 40000);  // port = base port
  bool ice_tcp = true;
  // Addresses put in candidates (public IP behind NAT, IPv4 and/or IPv6).
  // Empty: the bind address (which then must not be a wildcard).
  std::vector<ice::Address> announced;
  int socket_buffer_bytes = 4 << 20;
  // UDP GSO for runs of datagrams to one destination (udp_socket.hpp).
  bool udp_gso = true;
  // DTLS certificate and key (PEM files); empty: an ECDSA P-256 certificate
  // is generated at start-up.
  std::string dtls_certificate_file;
  std::string dtls_key_file;
};

class WorkerPool {
 public:
  // Binds every worker's sockets (throws std::runtime_error naming the port
  // on failure) and generates the DTLS certificate shared by all transports.
  explicit WorkerPool(const MediaConfig& config);
  ~WorkerPool();

  void start();
  void stop();

  size_t size() const { return workers_.size(); }
  Worker& worker(size_t i) { return *workers_[i]; }
  // The worker's media (transports, routers); touch only on that worker's thread.
  WorkerMedia& media(size_t i) { return *media_[i]; }
  // Host candidates for transports on worker i (UDP first, then TCP).
  const std::vector<ice::Candidate>& candidates(size_t i) const { return candidates_[i]; }
  const std::shared_ptr<const dtls::Context>& dtls_context() const { return dtls_context_; }

 private:
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<WorkerMedia*> media_;  // owned by their workers
  std::vector<std::vector<ice::Candidate>> candidates_;
  std::shared_ptr<const dtls::Context> dtls_context_;
};

// Workers by default: one per online core, at least 1.
uint32_t default_worker_count();

}  // namespace sfu::server
