// The shard actor: see shard.hpp.
#include "shard.hpp"

#include <limits>

#include "resp.hpp"

namespace kv {

void Shard::on(const GetRequest& r, const thespian::ActorAddress& from) {
  GetReply reply;
  reply.values.reserve(r.keys.size());
  for (const auto& key : r.keys) {
    auto it = data_.find(key);
    if (it == data_.end()) {
      reply.values.emplace_back(std::nullopt);
    } else {
      reply.values.emplace_back(it->second);
    }
  }
  send(from, std::move(reply));
}

void Shard::on(const SetRequest& r, const thespian::ActorAddress& from) {
  data_.insert_or_assign(r.key, r.value);
  send(from, true);
}

void Shard::on(const DelRequest& r, const thespian::ActorAddress& from) {
  std::int64_t removed = 0;
  for (const auto& key : r.keys) removed += static_cast<std::int64_t>(data_.erase(key));
  send(from, removed);
}

void Shard::on(const ExistsRequest& r, const thespian::ActorAddress& from) {
  std::int64_t found = 0;
  for (const auto& key : r.keys) found += data_.count(key) ? 1 : 0;
  send(from, found);
}

void Shard::on(const IncrRequest& r, const thespian::ActorAddress& from) {
  IncrReply reply;
  std::int64_t current = 0;
  auto it = data_.find(r.key);
  if (it != data_.end()) {
    auto parsed = parse_int64(it->second);
    if (!parsed) {
      reply.error = "ERR value is not an integer or out of range";
      send(from, std::move(reply));
      return;
    }
    current = *parsed;
  }
  if ((r.by > 0 && current > std::numeric_limits<std::int64_t>::max() - r.by) ||
      (r.by < 0 && current < std::numeric_limits<std::int64_t>::min() - r.by)) {
    reply.error = "ERR increment or decrement would overflow";
    send(from, std::move(reply));
    return;
  }
  current += r.by;
  data_.insert_or_assign(r.key, std::to_string(current));
  reply.value = current;
  send(from, std::move(reply));
}

}  // namespace kv

THESPIAN_ACTOR(kv::Shard);
