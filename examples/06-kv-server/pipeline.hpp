// Runs the commands of one read (a pipeline) with one ask per shard, replies in command order.
// Redis executes a pipeline in order, and so do we where it is observable: a run of consecutive
// GET/SET/INCR becomes one batch per shard, applied by the shard in command order (commands on
// different shards do not see each other), while a multi-key command (MGET, DEL, EXISTS: several
// shards) and QUIT wait for everything before them and run alone.
#pragma once

#include <string>
#include <vector>

#include <asio/awaitable.hpp>

#include "commands.hpp"

namespace kv {

// Executes `commands` (each non-empty) in order, appending their replies to `out`. Returns
// After::close as soon as a command asks for it; later commands are not run. Must run on a
// single-threaded executor (the server's io_context runs on one thread).
asio::awaitable<After> execute_pipeline(Store& store, std::vector<std::vector<std::string>> commands,
                                        std::string& out);

}  // namespace kv
