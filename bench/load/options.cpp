#include "bench/load/options.hpp"

#include <cstdlib>
#include <stdexcept>

namespace sfu::load {

namespace {

struct BadFlag : std::runtime_error {
  using std::runtime_error::runtime_error;
};

int to_int(const std::string& flag, const std::string& v, int min, int max) {
  char* end = nullptr;
  const long n = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || n < min || n > max) {
    throw BadFlag(flag + ": expected an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "], got '" +
                  v + "'");
  }
  return int(n);
}

double to_double(const std::string& flag, const std::string& v, double min) {
  char* end = nullptr;
  const double d = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0' || !(d >= min)) throw BadFlag(flag + ": expected a number >= " + std::to_string(min));
  return d;
}

}  // namespace

Result<LoadOptions, std::string> parse_options(const std::vector<std::string>& args) {
  LoadOptions o;
  try {
    for (size_t i = 0; i < args.size(); ++i) {
      std::string a = args[i];
      std::string value;
      bool has_value = false;
      if (const auto eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos) {
        value = a.substr(eq + 1);
        a = a.substr(0, eq);
        has_value = true;
      }
      auto next = [&]() -> std::string {
        if (has_value) return value;
        if (i + 1 >= args.size()) throw BadFlag(a + ": missing value");
        return args[++i];
      };
      if (a == "--help" || a == "-h") o.show_help = true;
      else if (a == "--target") o.target = next();
      else if (a == "--url") o.url = next();
      else if (a == "--rooms") o.rooms = to_int(a, next(), 1, 100000);
      else if (a == "--publishers") o.publishers = to_int(a, next(), 0, 10000);
      else if (a == "--subscribers") o.subscribers = to_int(a, next(), 0, 100000);
      else if (a == "--audio") o.audio = true;
      else if (a == "--no-audio") o.audio = false;
      else if (a == "--video") o.video = true;
      else if (a == "--no-video") o.video = false;
      else if (a == "--simulcast") o.simulcast = true;
      else if (a == "--no-simulcast") o.simulcast = false;
      else if (a == "--layer") o.layer = to_int(a, next(), 0, 2);
      else if (a == "--ramp") o.ramp = to_double(a, next(), 0.001);
      else if (a == "--duration") o.duration = to_double(a, next(), 0);
      else if (a == "--threads") o.threads = to_int(a, next(), 1, 256);
      else if (a == "--server-pid") o.server_pid = to_int(a, next(), 1, 1 << 30);
      else if (a == "--json") o.json = true;
      else if (a == "--check") o.check = true;
      else if (a == "--token") o.token = next();
      else if (a == "--token-secret") o.token_secret = next();
      else if (a == "--room-prefix") o.room_prefix = next();
      else if (a == "--bind") o.bind_ip = next();
      else if (a == "--no-udp-gro") o.udp_gro = false;
      else if (a == "--validate-every") o.validate_every = to_int(a, next(), 1, 1 << 20);
      else throw BadFlag("unknown argument '" + a + "' (see --help)");
    }
  } catch (const BadFlag& e) {
    return fail(std::string(e.what()));
  }
  if (o.target != "sfu" && o.target != "janus") return fail("--target: expected sfu or janus, got '" + o.target + "'");
  if (o.url.empty()) o.url = o.target == "janus" ? "ws://127.0.0.1:8188" : "ws://127.0.0.1:8080/ws";
  if (!o.audio && !o.video && o.publishers > 0) return fail(std::string("--no-audio and --no-video: nothing to publish"));
  if (o.layer > 0 && !o.simulcast) return fail(std::string("--layer: without simulcast there is only layer 0"));
  if (o.publishers + o.subscribers == 0) return fail(std::string("no participants (--publishers and --subscribers are 0)"));
  return o;
}

std::string usage() {
  return R"(usage: sfu-load [options]
Simulates WebRTC participants against an SFU over the real protocol
(WebSocket signaling, SDP, ICE, DTLS, SRTP) on loopback and reports what
they received.

  --target sfu|janus      signaling to speak (default sfu)
  --url URL               ws:// URL (default ws://127.0.0.1:8080/ws; janus ws://127.0.0.1:8188)
  --rooms N               rooms (default 1)
  --publishers N          publishers per room; they receive each other (default 2)
  --subscribers N         receive-only participants per room (default 4)
  --audio / --no-audio    publish Opus-sized audio, 50 packets/s (default on)
  --video / --no-video    publish VP8 video (default on)
  --simulcast / --no-simulcast
                          3 layers q/h/f at 200k/700k/2.5M (default), or one 2.5M layer
  --layer S               every subscriber asks for spatial layer S of each video
                          (setPreferredLayers; Janus: configure substream), so two
                          servers forward the same media (default: the server's choice).
                          Either way the report counts video tracks whose steady
                          bitrate is off the layer's rate by more than 10 %
  --ramp R                participants joined per second (default 20)
  --duration S            seconds of media after the last join started (default 30)
  --threads N             media threads (default 1)
  --server-pid PID        server process for CPU/RSS sampling (default: the
                          process listening on the URL's port on this machine, if found)
  --token JWT             token sent with every join
  --token-secret [KID=]SECRET
                          mint a token per participant (HS256, like `sfu token`)
  --room-prefix P         room names P-0, P-1, ... (default load)
  --bind IP               local IPv4 address of the media sockets (default 127.0.0.1)
  --no-udp-gro            receive every datagram on its own, without UDP GRO (by default a
                          server's UDP GSO run arrives as one buffer: less kernel work per packet)
  --validate-every N      run the full stream check (every header and payload byte) on every Nth
                          receiver (default 1: all); the others authenticate, decrypt, count,
                          repair and time every packet. compare.sh uses 4
  --json                  print the report as JSON instead of a table
  --check                 exit 1 unless every expected track was received with
                          no loss and no participant failed
)";
}

}  // namespace sfu::load
