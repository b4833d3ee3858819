// sfu-load: the load generator's composition root. See bench/README.md.
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "bench/load/load_runner.hpp"
#include "bench/load/options.hpp"
#include "bench/load/report.hpp"
#include "bench/load/sfu_target.hpp"

// The Janus VideoRoom target lives in janus_target.{hpp,cpp} (a separate
// piece of work); until it is there, --target janus says so.
#if __has_include("bench/load/janus_target.hpp")
#include "bench/load/janus_target.hpp"
#define SFU_LOAD_HAVE_JANUS 1
#endif

int main(int argc, char** argv) {
  using namespace sfu::load;
  std::signal(SIGPIPE, SIG_IGN);
  auto parsed = parse_options(std::vector<std::string>(argv + 1, argv + argc));
  if (!parsed) {
    std::fprintf(stderr, "sfu-load: %s\n", parsed.error().c_str());
    return 2;
  }
  const LoadOptions& options = *parsed;
  if (options.show_help) {
    std::fputs(usage().c_str(), stdout);
    return 0;
  }
  boost::asio::io_context io;
  std::unique_ptr<Target> target;
  if (options.target == "sfu") {
    target = std::make_unique<SfuTarget>(io, SfuTargetOptions{options.url, options.token, options.token_secret,
                                                              options.layer});
  } else {
#ifdef SFU_LOAD_HAVE_JANUS
    target = make_janus_target(io, options);
#else
    std::fprintf(stderr, "sfu-load: --target janus is not built in\n");
    return 2;
#endif
  }
  Report report;
  {
    LoadRunner runner(io, options, *target);
    report = runner.run();
  }
  if (options.json) {
    std::fputs(to_json(report).c_str(), stdout);
  } else {
    std::fputs(format_table(report).c_str(), stdout);
  }
  if (options.check) {
    const std::string why = check_failures(report);
    if (!why.empty()) {
      std::fprintf(stderr, "sfu-load: check failed: %s\n", why.c_str());
      return 1;
    }
  }
  return 0;
}
