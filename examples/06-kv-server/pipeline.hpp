// Runs the commands of one read (a pipeline) with their asks in flight together, replies in
// command order. Redis executes a pipeline in order; we keep that where it is observable:
// single-key commands reach the key's shard in command order (one mailbox, delivered from the one
// server thread), so they may overlap, while a multi-key command (MGET, DEL, EXISTS: several
// shards, asked one after another) and QUIT wait for everything before them and run alone.
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
