// The sfu binary: the composition root. It is the one place that wires the
// signaling front to the media side; the sfu_server library itself never
// includes signaling/ (arrows point down).
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/system/system_error.hpp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "server/config.hpp"
#include "server/worker_pool.hpp"
#include "signaling/front.hpp"

namespace {

const char* env_lookup(const char* name) { return std::getenv(name); }

int run(const sfu::server::Config& config) {
  sfu::server::WorkerPool workers(config.media);
  workers.start();
  for (size_t i = 0; i < workers.size(); ++i) {
    std::string line;
    for (const auto& c : workers.candidates(i)) line += " [" + c.to_sdp() + "]";
    std::fprintf(stderr, "sfu: worker %zu candidates%s\n", i, line.c_str());
  }

  boost::asio::io_context io(1);
  sfu::signaling::Front front(io, {.listen_address = config.http_address, .listen_port = config.http_port});

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    std::fprintf(stderr, "sfu: %s received, stopping\n", signo == SIGINT ? "SIGINT" : "SIGTERM");
    front.begin_drain();
    front.stop();
  });

  front.start();
  std::fprintf(stderr, "sfu: listening on http://%s:%u\n", config.http_address.c_str(), unsigned(front.port()));
  io.run();
  workers.stop();
  std::fprintf(stderr, "sfu: stopped\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const auto config = sfu::server::load_config(std::vector<std::string>(argv + 1, argv + argc), env_lookup);
    if (config.show_help) {
      std::fputs(sfu::server::usage().c_str(), stdout);
      return 0;
    }
    if (config.show_version) {
      std::puts("sfu " SFU_VERSION);
      return 0;
    }
    return run(config);
  } catch (const sfu::server::ConfigError& e) {
    std::fprintf(stderr, "sfu: %s\n", e.what());
    return 2;
  } catch (const boost::system::system_error& e) {
    std::fprintf(stderr, "sfu: %s\n", e.what());
    return 1;
  } catch (const std::runtime_error& e) {
    std::fprintf(stderr, "sfu: %s\n", e.what());
    return 1;
  }
}
