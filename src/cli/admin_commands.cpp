// `thespian start|stop|status`: run, stop and inspect the admin daemon of a multiprocTCPBase
// (or multiprocUDPBase) system on its Admin Port. Each is a short-lived program that joins the admin (or, for start,
// starts it) through the public ActorSystem API, exactly as any later program would; start
// leaves the admin running when it exits (BASES.md: the admin lives until shutdown()).
#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <thread>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>

#include <absl/strings/numbers.h>

#include "commands.hpp"
#include "thespian/thespian.hpp"

namespace thespian::cli {
namespace {

constexpr std::int64_t default_admin_port = 1900;
constexpr std::int64_t default_udp_admin_port = 1029;
constexpr auto stop_limit = std::chrono::seconds(30);

struct admin_options {
  std::string base = "multiprocTCPBase";
  std::int64_t port = 0;  // the base's default unless given
  Capabilities capabilities;
};

void print_admin_usage(std::FILE* out, std::string_view command) {
  std::fprintf(out,
               "usage: thespian %.*s [--base multiprocTCPBase|multiprocUDPBase] [--admin-port N]%s\n"
               "  start   start the admin daemon on 127.0.0.1:N (default 1900; UDP 1029), leave it\n"
               "          running\n"
               "  stop    shut down the system of the admin on that port (every actor ends)\n"
               "  status  print the status of the system of the admin on that port\n",
               static_cast<int>(command.size()), command.data(),
               command == "start" ? " [--capability NAME=VALUE]..." : "");
}

// "7" -> integer, "true"/"false" -> bool, "1.5" -> double, anything else -> text.
CapabilityValue parse_capability_value(const std::string& text) {
  std::int64_t integer = 0;
  if (absl::SimpleAtoi(text, &integer)) return integer;
  if (text == "true" || text == "True") return true;
  if (text == "false" || text == "False") return false;
  double real = 0;
  if (absl::SimpleAtod(text, &real)) return real;
  return text;
}

// Parses the options; nullopt (after saying why) on bad usage.
std::optional<admin_options> parse(std::string_view command,
                                   std::span<const std::string_view> args) {
  admin_options o;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view flag = args[i];
    if (flag == "-h" || flag == "--help") {
      print_admin_usage(stdout, command);
      std::exit(0);
    }
    if (i + 1 >= args.size()) {
      std::fprintf(stderr, "thespian %.*s: %.*s needs a value\n", static_cast<int>(command.size()),
                   command.data(), static_cast<int>(flag.size()), flag.data());
      return std::nullopt;
    }
    const std::string value(args[++i]);
    if (flag == "--base") {
      o.base = value;
    } else if (flag == "--admin-port") {
      if (!absl::SimpleAtoi(value, &o.port) || o.port < 1 || o.port > 65535) {
        std::fprintf(stderr, "thespian %.*s: --admin-port must be a port number, not '%s'\n",
                     static_cast<int>(command.size()), command.data(), value.c_str());
        return std::nullopt;
      }
    } else if (flag == "--capability" && command == "start") {
      const auto eq = value.find('=');
      if (eq == std::string::npos || eq == 0) {
        std::fprintf(stderr, "thespian start: --capability takes NAME=VALUE, not '%s'\n",
                     value.c_str());
        return std::nullopt;
      }
      o.capabilities[value.substr(0, eq)] = parse_capability_value(value.substr(eq + 1));
    } else {
      std::fprintf(stderr, "thespian %.*s: unknown option '%.*s'\n\n",
                   static_cast<int>(command.size()), command.data(),
                   static_cast<int>(flag.size()), flag.data());
      print_admin_usage(stderr, command);
      return std::nullopt;
    }
  }
  if (o.base != "multiprocTCPBase" && o.base != "multiprocUDPBase") {
    std::fprintf(stderr,
                 "thespian %.*s: only multiprocTCPBase and multiprocUDPBase have an admin daemon "
                 "that outlives its program, not '%s'\n",
                 static_cast<int>(command.size()), command.data(), o.base.c_str());
    return std::nullopt;
  }
  if (o.port == 0) o.port = o.base == "multiprocUDPBase" ? default_udp_admin_port : default_admin_port;
  o.capabilities["Admin Port"] = o.port;
  return o;
}

// TCP: something accepts connections on the port. UDP: something holds the port (the admin
// binds it exclusively; a datagram would have no answer to wait for).
bool admin_listens(const admin_options& o) {
  asio::io_context io;
  std::error_code ec;
  const auto loopback = asio::ip::address_v4::loopback();
  const auto port = static_cast<std::uint16_t>(o.port);
  if (o.base == "multiprocUDPBase") {
    asio::ip::udp::socket probe(io);
    probe.open(asio::ip::udp::v4(), ec);
    if (!ec) probe.bind({loopback, port}, ec);
    return ec == asio::error::address_in_use;
  }
  asio::ip::tcp::socket probe(io);
  probe.connect({loopback, port}, ec);
  return !ec;
}

}  // namespace

int admin_command(std::string_view command, std::span<const std::string_view> args) {
  auto options = parse(command, args);
  if (!options) return 2;
  const std::string where = "127.0.0.1:" + std::to_string(options->port);
  try {
    if (command == "start") {
      if (admin_listens(*options)) {
        std::cout << "thespian start: an admin already runs on " << where << std::endl;
        return 0;
      }
      ActorSystem system(options->base, options->capabilities);
      std::cout << "thespian start: admin of a " << system.base() << " system running on "
                << where << std::endl;
      return 0;  // the ActorSystem goes, the admin stays
    }
    if (!admin_listens(*options)) {
      std::cerr << "thespian " << command << ": no admin runs on " << where << std::endl;
      return 1;
    }
    ActorSystem system(options->base, options->capabilities);
    if (command == "status") {
      std::cout << system.status().format() << std::endl;
      return 0;
    }
    system.shutdown();
    const auto deadline = std::chrono::steady_clock::now() + stop_limit;
    while (admin_listens(*options)) {
      if (std::chrono::steady_clock::now() >= deadline) {
        std::cerr << "thespian stop: the admin on " << where << " still listens after "
                  << stop_limit.count() << " s" << std::endl;
        return 1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::cout << "thespian stop: the system of the admin on " << where << " has shut down"
              << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "thespian " << command << ": " << e.what() << std::endl;
    return 1;
  }
}

}  // namespace thespian::cli
