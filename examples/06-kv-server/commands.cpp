// Command dispatch: see commands.hpp. Every key operation is a correlated
// `co_await sys.async_ask(shard, request, timeout, asio::use_awaitable)`; multi-key commands
// (MGET, DEL, EXISTS) group their keys by shard and ask each shard involved once.
//
// g++ 12 rules: every request is built into a named thespian::Message local before the co_await
// (never a temporary inside the co_await expression), and no coroutine lambdas.
#include "commands.hpp"

#include <algorithm>
#include <cctype>
#include <functional>
#include <optional>
#include <utility>

#include <asio/use_awaitable.hpp>

#include "outbox.hpp"
#include "resp.hpp"
#include "shard.hpp"

namespace kv {

Store::Store(thespian::ActorSystem& sys, std::size_t shards, std::chrono::nanoseconds timeout)
    : sys_(sys), timeout_(timeout) {
  shards_.reserve(shards);
  for (std::size_t i = 0; i < shards; ++i) shards_.push_back(sys_.create_actor<Shard>());
}

std::size_t Store::shard_index(std::string_view key) const {
  return std::hash<std::string_view>{}(key) % shards_.size();
}

std::size_t request_bytes(const std::vector<std::string>& args) {
  std::size_t bytes = 0;
  for (const auto& a : args) bytes += a.size() + 16;  // a length prefix and an op's other fields
  return bytes;
}

std::string lower_ascii(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

namespace {

// Redis truncates and sanitises what it echoes in "unknown command" errors.
std::string shown(std::string_view s) {
  std::string r(s.substr(0, 128));
  for (char& c : r) {
    if (!std::isprint(static_cast<unsigned char>(c))) c = ' ';
  }
  return r;
}

void wrong_arity(std::string& out, const std::string& name) {
  append_error(out, "ERR wrong number of arguments for '" + name + "' command");
}

void shard_failed(std::string& out, const std::optional<thespian::Message>& reply) {
  if (!reply) {
    append_error(out, "ERR shard timeout");
  } else {
    append_error(out, "ERR shard failure: unexpected " + std::string(reply->type_name()));
  }
}

// The keys of a multi-key command grouped by shard, with their positions in the command.
struct Grouped {
  std::vector<std::vector<std::string>> keys;     // per shard
  std::vector<std::vector<std::size_t>> where;    // per shard: index into the command's keys
};

Grouped group_keys(const Store& store, const std::vector<std::string>& args, std::size_t first) {
  Grouped g;
  g.keys.resize(store.shard_count());
  g.where.resize(store.shard_count());
  for (std::size_t i = first; i < args.size(); ++i) {
    const std::size_t s = store.shard_index(args[i]);
    g.keys[s].push_back(args[i]);
    g.where[s].push_back(i - first);
  }
  return g;
}

// GET/SET/INCR through the outbox (combined with other connections' commands); false when the
// store has none and the command asks its shard itself.
asio::awaitable<bool> via_outbox(Store& store, KeyOp::Kind kind, const std::vector<std::string>& args,
                                 std::string& out) {
  if (!store.outbox()) co_return false;
  KeyOp op;
  op.kind = kind;
  op.key = args[1];
  if (kind == KeyOp::Kind::set) op.value = args[2];
  const OpResult r = co_await store.outbox()->async_submit(std::move(op), asio::use_awaitable);
  if (!r.error.empty()) {
    append_error(out, r.error);
  } else if (kind == KeyOp::Kind::set) {
    append_simple(out, "OK");
  } else if (kind == KeyOp::Kind::get) {
    if (r.value) {
      append_bulk(out, *r.value);
    } else {
      append_null(out);
    }
  } else if (r.counter.value) {
    append_integer(out, *r.counter.value);
  } else {
    append_error(out, r.counter.error);
  }
  co_return true;
}

asio::awaitable<void> do_get(Store& store, const std::vector<std::string>& args, std::string& out) {
  if (co_await via_outbox(store, KeyOp::Kind::get, args, out)) co_return;
  GetRequest request;
  request.keys.push_back(args[1]);
  thespian::Message message = std::move(request);
  std::optional<thespian::Message> reply = co_await store.system().async_ask(
      store.shard_for(args[1]), std::move(message), store.timeout(), asio::use_awaitable);
  const GetReply* values = reply ? reply->get<GetReply>() : nullptr;
  if (!values || values->values.size() != 1) {
    shard_failed(out, reply);
  } else if (values->values[0]) {
    append_bulk(out, *values->values[0]);
  } else {
    append_null(out);
  }
}

asio::awaitable<void> do_set(Store& store, const std::vector<std::string>& args, std::string& out) {
  if (co_await via_outbox(store, KeyOp::Kind::set, args, out)) co_return;
  SetRequest request{args[1], args[2]};
  thespian::Message message = std::move(request);
  std::optional<thespian::Message> reply = co_await store.system().async_ask(
      store.shard_for(args[1]), std::move(message), store.timeout(), asio::use_awaitable);
  if (reply && reply->is<bool>()) {
    append_simple(out, "OK");
  } else {
    shard_failed(out, reply);
  }
}

asio::awaitable<void> do_incr(Store& store, const std::vector<std::string>& args, std::string& out) {
  if (co_await via_outbox(store, KeyOp::Kind::incr, args, out)) co_return;
  IncrRequest request{args[1], 1};
  thespian::Message message = std::move(request);
  std::optional<thespian::Message> reply = co_await store.system().async_ask(
      store.shard_for(args[1]), std::move(message), store.timeout(), asio::use_awaitable);
  const IncrReply* result = reply ? reply->get<IncrReply>() : nullptr;
  if (!result) {
    shard_failed(out, reply);
  } else if (result->value) {
    append_integer(out, *result->value);
  } else {
    append_error(out, result->error);
  }
}

asio::awaitable<void> do_mget(Store& store, const std::vector<std::string>& args, std::string& out) {
  Grouped g = group_keys(store, args, 1);
  std::vector<std::optional<std::string>> values(args.size() - 1);
  for (std::size_t s = 0; s < g.keys.size(); ++s) {
    if (g.keys[s].empty()) continue;
    GetRequest request{std::move(g.keys[s])};
    thespian::Message message = std::move(request);
    std::optional<thespian::Message> reply = co_await store.system().async_ask(
        store.shard(s), std::move(message), store.timeout(), asio::use_awaitable);
    const GetReply* part = reply ? reply->get<GetReply>() : nullptr;
    if (!part || part->values.size() != g.where[s].size()) {
      shard_failed(out, reply);
      co_return;
    }
    for (std::size_t i = 0; i < part->values.size(); ++i) values[g.where[s][i]] = part->values[i];
  }
  append_array_header(out, values.size());
  for (const auto& v : values) {
    if (v) {
      append_bulk(out, *v);
    } else {
      append_null(out);
    }
  }
}

// DEL and EXISTS: each shard answers a count; the reply is their sum.
template <class Request>
asio::awaitable<void> do_count(Store& store, const std::vector<std::string>& args,
                               std::string& out) {
  Grouped g = group_keys(store, args, 1);
  std::int64_t total = 0;
  for (std::size_t s = 0; s < g.keys.size(); ++s) {
    if (g.keys[s].empty()) continue;
    Request request{std::move(g.keys[s])};
    thespian::Message message = std::move(request);
    std::optional<thespian::Message> reply = co_await store.system().async_ask(
        store.shard(s), std::move(message), store.timeout(), asio::use_awaitable);
    if (!reply || !reply->is<std::int64_t>()) {
      shard_failed(out, reply);
      co_return;
    }
    total += reply->as<std::int64_t>();
  }
  append_integer(out, total);
}

}  // namespace

asio::awaitable<After> execute(Store& store, std::vector<std::string> args, std::string& out) {
  const std::string name = lower_ascii(args[0]);
  const std::size_t argc = args.size();
  if (!store.fits(request_bytes(args))) {
    append_error(out, "ERR request too large for a shard in another process (limit " +
                          std::to_string(store.request_limit() >> 20) + " MiB)");
    co_return After::keep_open;
  }

  if (name == "ping") {
    if (argc == 1) {
      append_simple(out, "PONG");
    } else if (argc == 2) {
      append_bulk(out, args[1]);
    } else {
      wrong_arity(out, name);
    }
  } else if (name == "echo") {
    if (argc == 2) {
      append_bulk(out, args[1]);
    } else {
      wrong_arity(out, name);
    }
  } else if (name == "get") {
    if (argc == 2) {
      co_await do_get(store, args, out);
    } else {
      wrong_arity(out, name);
    }
  } else if (name == "set") {
    if (argc == 3) {
      co_await do_set(store, args, out);
    } else if (argc > 3) {
      append_error(out, "ERR syntax error");  // no SET options (EX, NX, ...) in this example
    } else {
      wrong_arity(out, name);
    }
  } else if (name == "incr") {
    if (argc == 2) {
      co_await do_incr(store, args, out);
    } else {
      wrong_arity(out, name);
    }
  } else if (name == "mget") {
    if (argc >= 2) {
      co_await do_mget(store, args, out);
    } else {
      wrong_arity(out, name);
    }
  } else if (name == "del") {
    if (argc >= 2) {
      co_await do_count<DelRequest>(store, args, out);
    } else {
      wrong_arity(out, name);
    }
  } else if (name == "exists") {
    if (argc >= 2) {
      co_await do_count<ExistsRequest>(store, args, out);
    } else {
      wrong_arity(out, name);
    }
  } else if (name == "command") {
    // Clients (redis-cli) ask for the command table and docs: an empty answer is acceptable.
    if (argc >= 2 && lower_ascii(args[1]) == "count") {
      append_integer(out, 0);
    } else {
      append_array_header(out, 0);
    }
  } else if (name == "config") {
    // redis-benchmark asks CONFIG GET save / appendonly: no configuration to report.
    if (argc < 2) {
      wrong_arity(out, name);
    } else if (lower_ascii(args[1]) == "get") {
      if (argc >= 3) {
        // The few parameters clients look at (redis-benchmark reads save and appendonly), as
        // name/value pairs; nothing else is configurable here.
        static constexpr std::pair<std::string_view, std::string_view> kConfig[] = {
            {"save", ""}, {"appendonly", "no"}, {"databases", "1"}};
        std::vector<std::pair<std::string_view, std::string_view>> found;
        for (std::size_t i = 2; i < argc; ++i) {
          const std::string wanted = lower_ascii(args[i]);
          for (const auto& entry : kConfig) {
            if (entry.first == wanted &&
                std::find(found.begin(), found.end(), entry) == found.end()) {
              found.push_back(entry);
            }
          }
        }
        append_array_header(out, found.size() * 2);
        for (const auto& [key, value] : found) {
          append_bulk(out, key);
          append_bulk(out, value);
        }
      } else {
        wrong_arity(out, "config|get");
      }
    } else {
      append_error(out, "ERR unknown subcommand '" + shown(args[1]) + "'. Try CONFIG HELP.");
    }
  } else if (name == "quit") {
    append_simple(out, "OK");
    co_return After::close;
  } else {
    std::string text = "ERR unknown command '" + shown(args[0]) + "', with args beginning with: ";
    for (std::size_t i = 1; i < argc && text.size() < 512; ++i) text += "'" + shown(args[i]) + "' ";
    append_error(out, text);
  }
  co_return After::keep_open;
}

}  // namespace kv
