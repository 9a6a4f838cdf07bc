// The workloads, each a function over one side of the comparison: ours (a system base by name,
// through the public API only), CAF (caf_workloads.cpp, when built with it) and the floors
// (floors.cpp: the same traffic with no actor framework at all). Every function runs once and
// returns per-operation costs (see suite.hpp `samples`); they throw std::runtime_error when a
// run does not finish.
#pragma once

#include <cstdint>
#include <string>

#include "suite.hpp"

namespace bench {

// The token of work in each fork-join task (one LCG step, in unsigned arithmetic: no overflow).
inline std::int64_t lcg_step(std::int64_t v) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(v) * 6364136223846793005ULL +
                                   1442695040888963407ULL);
}

// Scheduler threads given to every threaded side (multithreadBase, CAF, thread floors).
inline constexpr int bench_threads = 2;

namespace ours {
// `messages` hops in total, `in_flight` balls bouncing between two actors. ns/msg. The actors
// handle messages in on_message(), or, with coroutine_receive, in a coroutine receive().
samples pingpong(const std::string& base, std::int64_t messages, int in_flight,
                 bool coroutine_receive = false);
// `senders` actors each send `per_sender` messages to one sink. ns/msg.
samples fan_in(const std::string& base, std::int64_t per_sender, int senders);
// A token passed `hops` times around a ring of `actors`. ns/hop.
samples thread_ring(const std::string& base, int actors, std::int64_t hops);
// An actor creates `actors` children that each answer it once. ns/actor.
samples spawn(const std::string& base, std::int64_t actors);
// Resident bytes per idle actor after the spawn above (RSS from /proc/self/statm). B/actor.
samples idle_actor_bytes(const std::string& base, std::int64_t actors);
// A coordinator forks one task to each of `workers` and joins their answers, `rounds` times.
// ns/task.
samples fork_join(const std::string& base, int workers, std::int64_t rounds);
// `creatures` chameneos meet through a mall broker `meetings` times. ns/meeting.
samples chameneos(const std::string& base, int creatures, std::int64_t meetings);
// Blocking ActorSystem::ask to an echo actor; one sample per ask. ns/ask.
samples ask_blocking(const std::string& base, std::int64_t asks);
// co_await async_ask from a coroutine on an io_context of its own; one sample per ask. ns/ask.
samples ask_coroutine(const std::string& base, std::int64_t asks);
// Round trips of a fresh `bytes`-byte payload through an echo actor; one sample each.
// ns/round trip.
samples big_message(const std::string& base, std::int64_t bytes, std::int64_t round_trips);
}  // namespace ours

namespace floors {
samples direct_call(std::int64_t calls);                         // ns/call
samples asio_post(std::int64_t posts);                           // ns/hand-off, one thread
// Two threads bounce `in_flight` tokens through two mutex/condvar queues. ns/msg.
samples mutex_queue_pingpong(std::int64_t messages, int in_flight);
// `senders` threads push into one mutex/condvar queue drained by one thread. ns/msg.
samples mutex_queue_fan_in(std::int64_t per_sender, int senders);
// Allocate a 64-byte object and post one handler that answers, per "actor". ns/actor.
samples alloc_and_post(std::int64_t objects);
// Tasks posted to a 2-thread io_context, joined by an atomic countdown per round. ns/task.
samples asio_pool_fork_join(int workers, std::int64_t rounds);
// One sample per round trip through a mutex/condvar queue to another thread and back.
samples mutex_queue_round_trip(std::int64_t round_trips);
// One sample per co_await of an asio::post hop to another thread's io_context and back.
samples asio_coroutine_round_trip(std::int64_t round_trips);
// One sample per memcpy of `bytes` (what building a fresh payload costs). ns/copy.
samples memcpy_bytes(std::int64_t bytes, std::int64_t copies);
}  // namespace floors

// Across processes (remote_workloads.cpp), on a multi-process base; their floors are in
// remote_floors.hpp.
namespace remote {
// A ball bounced between actors in two actor processes; one sample (ns) per round trip.
samples pingpong(const std::string& base, std::int64_t round_trips);
// Blocking ActorSystem::ask from this program to an echo actor in its own process; one sample
// (ns) per ask.
samples ask(const std::string& base, std::int64_t asks);
// An actor sends `messages` 64-byte payloads back to back to an actor in another process,
// which counts them; ns per message until the count is back.
samples pipelined(const std::string& base, std::int64_t messages);
}  // namespace remote

#if THESPIAN_BENCH_WITH_CAF
namespace caf_side {
samples pingpong(std::int64_t messages, int in_flight);
samples fan_in(std::int64_t per_sender, int senders);
samples thread_ring(int actors, std::int64_t hops);
samples spawn(std::int64_t actors);
samples idle_actor_bytes(std::int64_t actors);
samples fork_join(int workers, std::int64_t rounds);
samples chameneos(int creatures, std::int64_t meetings);
samples ask_blocking(std::int64_t asks);
samples big_message(std::int64_t bytes, std::int64_t round_trips);
}  // namespace caf_side
#endif

// Resident set size of this process in bytes (/proc/self/statm), after returning freed heap
// pages to the OS so that a later difference counts only new allocations.
std::int64_t resident_bytes_after_trim();

}  // namespace bench
