// The shard actor of thespian-kv: owns one slice of the key space (keys hashed mod the number of
// shards) and answers typed requests. Being an actor, it handles one request at a time, so its
// map needs no lock; different shards run in parallel on multithreadBase, and in processes of
// their own on a multi-process base. For the latter every request and reply has a cereal
// serialize() and is registered by name with THESPIAN_MESSAGE (shard.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <cereal/types/optional.hpp>
#include <thespian/thespian.hpp>

namespace kv {

// Requests (each answered to the asker) and their replies.
struct GetRequest {            // -> GetReply, one value per key, in order
  std::vector<std::string> keys;
  template <class A> void serialize(A& ar) { ar(keys); }
};
struct GetReply {
  std::vector<std::optional<std::string>> values;
  template <class A> void serialize(A& ar) { ar(values); }
};
struct SetRequest {            // -> bool true
  std::string key;
  std::string value;
  template <class A> void serialize(A& ar) { ar(key, value); }
};
struct DelRequest {            // -> std::int64_t: how many keys were removed
  std::vector<std::string> keys;
  template <class A> void serialize(A& ar) { ar(keys); }
};
struct ExistsRequest {         // -> std::int64_t: how many of the keys exist (repeats count)
  std::vector<std::string> keys;
  template <class A> void serialize(A& ar) { ar(keys); }
};
struct IncrRequest {           // -> IncrReply
  std::string key;
  std::int64_t by = 1;
  template <class A> void serialize(A& ar) { ar(key, by); }
};
struct IncrReply {
  std::optional<std::int64_t> value;  // nullopt: `error` says why
  std::string error;
  template <class A> void serialize(A& ar) { ar(value, error); }
};

// Several single-key operations for one shard in one message (a pipeline's GET/SET/INCR for
// this shard's keys), applied in order -> BatchReply with one result per operation.
struct KeyOp {
  enum class Kind : std::uint8_t { get, set, incr };
  Kind kind = Kind::get;
  std::string key;
  std::string value;  // SET only
  template <class A> void serialize(A& ar) { ar(kind, key, value); }
};
struct BatchRequest {
  std::vector<KeyOp> ops;
  template <class A> void serialize(A& ar) { ar(ops); }
};
struct BatchReply {
  std::vector<std::optional<std::string>> values;  // GET: the value; SET: unused
  std::vector<IncrReply> counters;                 // INCR results, in the order of the INCRs
  template <class A> void serialize(A& ar) { ar(values, counters); }
};

class Shard : public thespian::ActorTypeDispatcher<Shard, GetRequest, SetRequest, DelRequest,
                                                   ExistsRequest, IncrRequest, BatchRequest> {
 public:
  void on(const GetRequest& r, const thespian::ActorAddress& from);
  void on(const SetRequest& r, const thespian::ActorAddress& from);
  void on(const DelRequest& r, const thespian::ActorAddress& from);
  void on(const ExistsRequest& r, const thespian::ActorAddress& from);
  void on(const IncrRequest& r, const thespian::ActorAddress& from);
  void on(const BatchRequest& r, const thespian::ActorAddress& from);

 private:
  IncrReply increment(const std::string& key, std::int64_t by);

  std::unordered_map<std::string, std::string> data_;
};

}  // namespace kv
