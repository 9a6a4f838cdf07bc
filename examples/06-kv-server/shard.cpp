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
  send(from, increment(r.key, r.by));
}

void Shard::on(const BatchRequest& r, const thespian::ActorAddress& from) {
  BatchReply reply;
  reply.values.reserve(r.ops.size());
  for (const KeyOp& op : r.ops) {
    switch (op.kind) {
      case KeyOp::Kind::get: {
        auto it = data_.find(op.key);
        reply.values.push_back(it == data_.end() ? std::nullopt
                                                 : std::optional<std::string>(it->second));
        break;
      }
      case KeyOp::Kind::set:
        data_.insert_or_assign(op.key, op.value);
        reply.values.emplace_back(std::nullopt);
        break;
      case KeyOp::Kind::incr:
        reply.counters.push_back(increment(op.key, 1));
        reply.values.emplace_back(std::nullopt);
        break;
    }
  }
  send(from, std::move(reply));
}

IncrReply Shard::increment(const std::string& key, std::int64_t by) {
  IncrReply reply;
  std::int64_t current = 0;
  auto it = data_.find(key);
  if (it != data_.end()) {
    auto parsed = parse_int64(it->second);
    if (!parsed) {
      reply.error = "ERR value is not an integer or out of range";
      return reply;
    }
    current = *parsed;
  }
  if ((by > 0 && current > std::numeric_limits<std::int64_t>::max() - by) ||
      (by < 0 && current < std::numeric_limits<std::int64_t>::min() - by)) {
    reply.error = "ERR increment or decrement would overflow";
    return reply;
  }
  current += by;
  data_.insert_or_assign(key, std::to_string(current));
  reply.value = current;
  return reply;
}

}  // namespace kv

THESPIAN_ACTOR(kv::Shard);
// The shard's requests and replies, by wire name, so that they can reach a shard in another
// process (bool and std::int64_t replies are registered by the library).
THESPIAN_MESSAGE(kv::GetRequest);
THESPIAN_MESSAGE(kv::GetReply);
THESPIAN_MESSAGE(kv::SetRequest);
THESPIAN_MESSAGE(kv::DelRequest);
THESPIAN_MESSAGE(kv::ExistsRequest);
THESPIAN_MESSAGE(kv::IncrRequest);
THESPIAN_MESSAGE(kv::IncrReply);
THESPIAN_MESSAGE(kv::BatchRequest);
THESPIAN_MESSAGE(kv::BatchReply);
