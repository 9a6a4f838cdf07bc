// Helpers shared by the unit test files: an endpoint that records what it is given (so address,
// dead-letter and ask plumbing can be tested without actors), cereal round trips, a unique
// temporary directory per test, and a guard that restores an environment variable.
#pragma once

#include <atomic>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <unistd.h>

#include <cereal/archives/portable_binary.hpp>

#include "core/endpoint.hpp"
#include "core/envelope.hpp"
#include "thespian/address.hpp"
#include "thespian/message.hpp"

namespace unit_support {

// System ids far above those of real systems in this process, so that the process-wide wire
// table never mixes a test endpoint with a real one.
inline std::uint64_t fresh_system_id() {
  static std::atomic<std::uint64_t> next{0x7e57'0000'0000ULL};
  return next.fetch_add(1) + 1;
}

// An endpoint that keeps every envelope it accepts; refuse() makes later deliveries fail (as an
// exited actor's do). With reply_with set, it answers each message to the message's sender.
class recording_endpoint final : public thespian::detail::endpoint {
 public:
  using endpoint::endpoint;

  bool deliver(thespian::detail::envelope&& e) override {
    std::optional<thespian::Message> reply;
    thespian::ActorAddress reply_to;
    {
      std::lock_guard lock(mutex_);
      if (refusing_) return false;
      if (reply_with_) {
        reply = *reply_with_;
        reply_to = e.sender;
      }
      received_.push_back(std::move(e));
    }
    if (reply && reply_to) {
      thespian::detail::envelope answer{std::move(*reply), thespian::ActorAddress{},
                                        thespian::detail::envelope_kind::user, 0};
      reply_to.endpoint()->deliver(std::move(answer));
    }
    return true;
  }

  void refuse() {
    std::lock_guard lock(mutex_);
    refusing_ = true;
  }
  void reply_with(thespian::Message m) {
    std::lock_guard lock(mutex_);
    reply_with_ = std::move(m);
  }
  std::vector<thespian::detail::envelope> received() const {
    std::lock_guard lock(mutex_);
    return received_;
  }

 private:
  mutable std::mutex mutex_;
  bool refusing_ = false;
  std::optional<thespian::Message> reply_with_;
  std::vector<thespian::detail::envelope> received_;
};

using recording_ref = thespian::detail::endpoint_ref<recording_endpoint>;

inline recording_ref make_recording_endpoint() {
  return thespian::detail::make_endpoint<recording_endpoint>(fresh_system_id(), 1);
}

// Writes `value` with a PortableBinary archive and reads it back as a fresh T.
template <class T>
T round_trip(const T& value) {
  std::stringstream buffer;
  {
    cereal::PortableBinaryOutputArchive out(buffer);
    out(value);
  }
  T result{};
  cereal::PortableBinaryInputArchive in(buffer);
  in(result);
  return result;
}

// The bytes one PortableBinary archive writes for `values` (its endianness byte first).
template <class... T>
std::string encode(const T&... values) {
  std::stringstream buffer;
  {
    cereal::PortableBinaryOutputArchive out(buffer);
    out(values...);
  }
  return buffer.str();
}

template <class T>
T decode(const std::string& bytes) {
  std::stringstream buffer(bytes);
  T result{};
  cereal::PortableBinaryInputArchive in(buffer);
  in(result);
  return result;
}

inline bool is_printable(std::string_view text) {
  for (char c : text) {
    if (!std::isprint(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

inline bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

// A directory of its own for one test, removed with everything in it at the end.
class temp_dir {
 public:
  temp_dir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("thespian-unit-" + std::to_string(::getpid()) + "-" +
             std::to_string(counter.fetch_add(1)));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(std::string_view name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Sets (or, with nullopt, unsets) an environment variable for one test and restores it after.
class env_guard {
 public:
  env_guard(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = std::string(old);
    if (value) {
      ::setenv(name, value->c_str(), 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~env_guard() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  env_guard(const env_guard&) = delete;
  env_guard& operator=(const env_guard&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

}  // namespace unit_support
