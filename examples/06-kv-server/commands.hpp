// Command dispatch for thespian-kv: turns one parsed command (its arguments) into RESP reply
// bytes, asking the shard actors that own the keys with co_await sys.async_ask.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <asio/awaitable.hpp>
#include <thespian/thespian.hpp>

namespace kv {

class Outbox;

// The actor side of the server: the system and its shards. Shared by every connection.
class Store {
 public:
  Store(thespian::ActorSystem& sys, std::size_t shards,
        std::chrono::nanoseconds timeout = std::chrono::seconds(5));

  thespian::ActorSystem& system() { return sys_; }
  std::size_t shard_count() const { return shards_.size(); }
  std::size_t shard_index(std::string_view key) const;
  const thespian::ActorAddress& shard(std::size_t index) const { return shards_[index]; }
  const thespian::ActorAddress& shard_for(std::string_view key) const {
    return shards_[shard_index(key)];
  }
  std::chrono::nanoseconds timeout() const { return timeout_; }
  // When set, single GET/SET/INCR commands go through it (see outbox.hpp).
  void use_outbox(Outbox* outbox) { outbox_ = outbox; }
  Outbox* outbox() const { return outbox_; }
  // On a multi-process base a request reaches its shard as one frame of bounded size: commands
  // of more than `bytes` (request_bytes) are refused, and batches are cut below it. 0, the
  // default: no limit (in-process bases never serialize).
  void limit_requests(std::size_t bytes) { request_limit_ = bytes; }
  std::size_t request_limit() const { return request_limit_; }
  bool fits(std::size_t bytes) const { return request_limit_ == 0 || bytes <= request_limit_; }

 private:
  Outbox* outbox_ = nullptr;
  std::size_t request_limit_ = 0;
  thespian::ActorSystem& sys_;
  std::vector<thespian::ActorAddress> shards_;
  std::chrono::nanoseconds timeout_;
};

enum class After { keep_open, close };

// What a command's arguments weigh in a request to a shard (their bytes, plus room for framing).
std::size_t request_bytes(const std::vector<std::string>& args);

// `s` with ASCII letters lowered: command names are case-insensitive.
std::string lower_ascii(std::string_view s);

// Runs one command (args non-empty), appending its reply to `out`. `store` and `out` must outlive
// the returned coroutine (the caller awaits it at once).
asio::awaitable<After> execute(Store& store, std::vector<std::string> args, std::string& out);

}  // namespace kv
