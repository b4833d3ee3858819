#include "server/worker_pool.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace sfu::server {
namespace {

MediaConfig ephemeral() {
  MediaConfig c;
  c.workers = 2;
  c.bind = ice::Address::v4(0x7f000001u, 0);
  return c;
}

TEST(WorkerPool, CandidatesUseTheBoundPortsAndAnnouncedAddresses) {
  MediaConfig c = ephemeral();
  c.announced = {*ice::parse_ip("203.0.113.5", 0), *ice::parse_ip("2001:db8::5", 0)};
  WorkerPool pool(c);
  ASSERT_EQ(pool.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const auto& cands = pool.candidates(i);
    ASSERT_EQ(cands.size(), 4u);  // two UDP, two TCP
    EXPECT_EQ(cands[0].address.port, pool.worker(i).udp_address().port);
    EXPECT_EQ(ice::ip_to_string(cands[1].address), "2001:db8::5");
    EXPECT_EQ(cands[2].protocol, ice::CandidateProtocol::tcp);
    EXPECT_EQ(cands[2].address.port, pool.worker(i).tcp_address()->port);
  }
}

TEST(WorkerPool, DtlsCertificateFromFiles) {
  const auto cert = dtls::Certificate::generate("file-test");
  const std::string dir = testing::TempDir();
  std::ofstream(dir + "/c.pem") << cert.certificate_pem();
  std::ofstream(dir + "/k.pem") << cert.private_key_pem();
  MediaConfig c = ephemeral();
  c.dtls_certificate_file = dir + "/c.pem";
  c.dtls_key_file = dir + "/k.pem";
  WorkerPool pool(c);
  EXPECT_EQ(pool.dtls_context()->certificate().fingerprint(), cert.fingerprint());

  const auto other = dtls::Certificate::generate("other");
  std::ofstream(dir + "/k2.pem") << other.private_key_pem();
  c.dtls_key_file = dir + "/k2.pem";
  EXPECT_THROW(WorkerPool{c}, std::runtime_error);  // the key does not match the certificate
  c.dtls_key_file = dir + "/missing.pem";
  EXPECT_THROW(WorkerPool{c}, std::runtime_error);
}

TEST(WorkerPool, WildcardWithoutAnnouncedAddressIsRefused) {
  MediaConfig c = ephemeral();
  c.bind = ice::Address::v4(0u, 0);
  EXPECT_THROW(WorkerPool{c}, std::runtime_error);
}

}  // namespace
}  // namespace sfu::server
