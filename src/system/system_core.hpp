// system_core: the state one ActorSystem shares with its actors and external endpoints — the
// io_context and its driver, the table of live actors, global names, capabilities, the
// dead-letter handler and the logger. Everything here is thread-safe unless it says otherwise.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <asio/defer.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include "core/endpoint.hpp"
#include "core/log_hub.hpp"
#include "core/run_queue.hpp"
#include "system/base_driver.hpp"
#include "thespian/actor.hpp"
#include "thespian/capabilities.hpp"
#include "thespian/detail/async_ask.hpp"
#include "thespian/system_messages.hpp"
#include "thespian/system_options.hpp"

namespace thespian::detail {

class actor_cell;
class external_endpoint;
class reply_endpoint;
namespace multiproc {
class link;
}

// What a system is to the multi-process bases (system/multiproc/): a system of one process
// (in_process), the creating program's system, which starts and talks to an admin process
// (client), the admin process's own system (admin), or an actor process's system (member).
enum class process_role : std::uint8_t { in_process, client, admin, member };

class system_core : public std::enable_shared_from_this<system_core> {
 public:
  // `system_id` 0: a fresh in-process id; the multi-process roles are given theirs.
  // `endpoint_base`: the ids this system gives its endpoints are endpoint_base + 1, + 2, ...
  // (an actor process of a system with Admin Routing numbers them inside its block, see
  // multiproc/system_route.hpp).
  system_core(std::string_view base, Capabilities caps, SystemOptions options,
              process_role role = process_role::in_process, std::uint64_t system_id = 0,
              std::uint64_t endpoint_base = 0);
  ~system_core();
  // After construction (it needs shared_from_this): a client starts its admin process and
  // listens for replies. No-op for the in-process bases.
  void start();
  // The ActorSystem object goes away without shutdown(): a multiprocTCPBase admin stays for
  // later programs (BASES.md); the other bases end with their system as before.
  void leave_admin_running();
  // An actor process: creations go to the admin with this system id; what the admin tells
  // this system comes to its endpoint `control_id`.
  void join_admin(std::uint64_t admin_system_id, std::uint64_t control_id);
  // An actor process (and the admin): hosts `type` here with the ids the creator chose.
  // Throws InvalidActorSpecification when its constructor throws.
  // `system_actor`: the admin's or logger's own actor, which only its system may ask to exit.
  ActorAddress host_actor(const actor_type& type, const std::string& type_name, Requirements req,
                          std::string global_name, ActorAddress parent, std::uint64_t endpoint_id,
                          bool system_actor = false);
  process_role role() const noexcept { return role_; }

  // --- identity and plumbing
  std::uint64_t id() const noexcept { return id_; }
  const std::string& base() const noexcept { return base_; }
  std::uint64_t next_endpoint_id() noexcept { return next_endpoint_id_.fetch_add(1) + 1; }
  asio::io_context& context() noexcept { return context_; }
  base_driver& driver() noexcept { return *driver_; }
  const SystemOptions& options() const noexcept { return options_; }
  const std::shared_ptr<log_hub>& log() const noexcept { return log_; }
  void log(LogLevel level, std::string_view text) const;
  // Hands actors whose loop is parked and who now have mail to the system's threads.
  run_queue& runs() noexcept { return runs_; }

  // --- messaging
  // Delivers from `from` to `to`; a message that the target does not take becomes a dead
  // letter. Throws InvalidActorAddress for the null address.
  void send(const ActorAddress& from, const ActorAddress& to, Message message);
  // send() from a thread outside the actors that will now wait for the answer (a blocking
  // ask): on multithreadBase the actor it makes ready runs on the calling thread (see
  // run_queue::caller_turn) rather than waking a pool thread.
  void send_then_run(const ActorAddress& from, const ActorAddress& to, Message message);
  void dead_letter(const ActorAddress& to, envelope&& e);
  void set_dead_letter_handler(const ActorAddress& handler, bool start);
  std::uint64_t dead_letter_count() const noexcept { return dead_letters_.load(); }

  // --- actors
  // parent == nullptr: created from outside (a throwing constructor throws here).
  ActorAddress create_actor(const actor_type& type, Requirements req, std::string global_name,
                            actor_cell* parent);
  ActorAddress create_actor(std::string_view type_name, Requirements req,
                            std::string global_name, const std::string& source_hash,
                            actor_cell* parent);
  void actor_exited(actor_cell& cell);
  std::size_t actor_count() const;

  // --- capabilities
  Capabilities capabilities() const;
  // The current capabilities without copying them (they are replaced, never changed, on update).
  std::shared_ptr<const Capabilities> capabilities_snapshot() const;
  std::uint64_t capabilities_generation() const noexcept { return caps_generation_.load(); }
  void update_capability(std::string name, std::optional<CapabilityValue> value);
  // Changes this process's copy only (and asks actors that no longer qualify to exit).
  void apply_capability(std::string name, std::optional<CapabilityValue> value);

  // --- outside callers
  const endpoint_ref<external_endpoint>& default_endpoint() const noexcept {
    return external_;
  }
  endpoint_ref<external_endpoint> new_external_endpoint();
  void start_async_ask(const ActorAddress& to, Message message, std::chrono::nanoseconds timeout,
                       ask_callback done);
  SystemStatus status();
  // Throws ActorSystemFailure once the system is shut down.
  void ensure_running(std::string_view what) const;
  void shutdown();
  // From inside an actor: stops taking outside calls and asks every actor to exit; the
  // ActorSystem's shutdown() or destructor finishes the job.
  void begin_shutdown();
  bool is_shut_down() const noexcept { return shut_down_.load(); }

 private:
  struct pending_ask;
  using ask_key = std::pair<std::chrono::steady_clock::time_point, std::uint64_t>;
  ActorAddress spawn(const actor_type& type, const std::string& type_name, Requirements req,
                     std::string global_name, actor_cell* parent);
  // Builds the cell and the actor; throws what the constructor throws.
  endpoint_ref<actor_cell> make_cell(const actor_type& type, const std::string& type_name,
                                        Requirements req, ActorAddress parent,
                                        std::string global_name, std::uint64_t endpoint_id,
                                        std::unique_ptr<Actor>& actor);
  void ask_finished(const pending_ask& ask);
  // Arms ask_timer_ for `deadline` unless it is already due at or before it. Needs asks_mutex_.
  void arm_ask_timer_locked(std::chrono::steady_clock::time_point deadline);
  void expire_asks(const std::error_code& ec);
  std::vector<endpoint_ref<actor_cell>> live_cells() const;
  void request_exit(bool top_level_only);

  const process_role role_;
  const std::uint64_t id_;
  const std::string base_;
  const SystemOptions options_;
  std::shared_ptr<log_hub> log_;
  std::atomic<std::uint64_t> next_endpoint_id_{0};

  asio::io_context context_;
  run_queue runs_;
  const bool caller_runs_;  // send_then_run runs the target here (the in-process bases)
  std::unique_ptr<base_driver> driver_;

  mutable std::mutex caps_mutex_;
  std::shared_ptr<const Capabilities> caps_;
  std::atomic<std::uint64_t> caps_generation_{1};

  // The live actors (started, not exited): a list through the cells themselves
  // (actor_cell::live_link), each kept alive by its own address until it leaves the list. No
  // table by id: creating an actor is a link at the head, not a hash insert that touches a
  // random line of a table as large as the actors (and rehashes it as it grows).
  mutable std::mutex actors_mutex_;
  actor_cell* live_head_ = nullptr;
  std::size_t live_count_ = 0;
  void link_live(actor_cell& cell);  // under actors_mutex_

  std::mutex names_mutex_;
  std::map<std::string, ActorAddress, std::less<>> names_;

  mutable std::mutex dead_letter_mutex_;
  ActorAddress dead_letter_handler_;
  std::atomic<std::uint64_t> dead_letters_{0};

  // Pending correlated asks by (deadline, sequence). One timer, due at the earliest deadline,
  // expires them: an ask that is answered costs a map insert and erase, no timer operation
  // (uniform timeouts never move the earliest deadline forward). asks_mutex_ also serialises
  // every use of ask_timer_, which asio does not make thread-safe.
  std::mutex asks_mutex_;
  std::map<ask_key, std::shared_ptr<pending_ask>> asks_;
  std::uint64_t next_ask_sequence_ = 0;
  asio::steady_timer ask_timer_{context_};
  std::optional<std::chrono::steady_clock::time_point> ask_timer_due_;

  endpoint_ref<external_endpoint> external_;
  // client and member roles: the way to the admin, which creates every actor.
  std::unique_ptr<multiproc::link> link_;
  std::atomic<bool> shut_down_{false};
  std::once_flag shutdown_once_;
};

// "Type: what()" of an exception, for PoisonMessage::details and error messages.
std::string describe_exception(const std::exception_ptr& error);

}  // namespace thespian::detail
