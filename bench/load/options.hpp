// sfu-load's command line.
#pragma once

#include <string>
#include <vector>

#include "common/result.hpp"

namespace sfu::load {

struct LoadOptions {
  std::string target = "sfu";  // "sfu" or "janus"
  std::string url;             // default: ws://127.0.0.1:8080/ws (sfu), ws://127.0.0.1:8188 (janus)
  int rooms = 1;
  int publishers = 2;   // per room; they also receive each other
  int subscribers = 4;  // per room, receive-only
  bool audio = true;
  bool video = true;
  bool simulcast = true;
  int layer = -1;  // spatial layer every subscriber asks for (-1: the server's choice)
  double ramp = 20;       // participants joined per second
  double duration = 30;   // seconds of media after the last participant started
  int threads = 1;        // media threads
  int server_pid = 0;     // 0: look for the process listening on the URL's port
  bool json = false;
  bool check = false;     // exit 1 unless every expected track arrived with no loss and no failure
  std::string token;         // one JWT for every join
  std::string token_secret;  // "KID=SECRET" or "SECRET": mint one per participant
  std::string room_prefix = "load";
  std::string bind_ip = "127.0.0.1";  // local address of every media socket
  bool udp_gro = true;                 // receive GSO runs as one buffer (bench/load/udp_gro.hpp)
  int validate_every = 1;              // full stream check on every Nth receiver (MediaThreadSettings)
  bool show_help = false;
};

// Parses the arguments (without argv[0]); the reason on a bad flag.
Result<LoadOptions, std::string> parse_options(const std::vector<std::string>& args);
std::string usage();

}  // namespace sfu::load
