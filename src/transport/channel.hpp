// The interface every transport channel (TCP, UNIX stream, UDP) offers to the system that will
// carry messages between processes: send a frame to a peer and learn its outcome (delivered =
// ACK, no such target = NACK, failed = timeout / connection lost / closed, with the reason), and
// have incoming data frames handed to a deliver handler that says whether their target exists.
//
// Sending has two steps, so that back-pressure and the per-message outcome stay distinct:
// admission into the peer's outbound queue (immediate below the high-water mark; a plain thread
// blocks / a coroutine suspends above it until the queue is back at the low-water mark; an
// outbound_queue_full exception at the hard limit), then, later, the outcome of that message.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include <absl/functional/any_invocable.h>
#include <asio.hpp>

#include "thespian/errors.hpp"
#include "transport/frame.hpp"

namespace thespian::transport {

enum class send_status {
  delivered,       // the peer acknowledged the message (ACK): its target took it
  no_such_target,  // the peer answered NACK: the target is gone; the sender makes it a dead letter
  failed,          // no answer: transmit timeout, connection lost after writing, channel closed
};
std::string_view to_string(send_status status) noexcept;

struct send_outcome {
  send_status status = send_status::failed;
  std::string reason;  // empty when delivered; otherwise names the peer and what went wrong
};

// Receives the outcome of one message, exactly once, on the channel's I/O thread or on the
// thread that closed the channel. Must not block; an exception from it is reported and dropped.
using outcome_handler = absl::AnyInvocable<void(send_outcome)>;
// Receives every data frame that arrives, on the channel's I/O thread, in the order each sender
// sent them. Returns false when the target does not exist (the sender is answered NACK).
using deliver_handler = std::function<bool(frame&&)>;
// Called once a parked send has been admitted (nullptr) or refused (channel_closed).
using admitted_handler = absl::AnyInvocable<void(std::exception_ptr)>;

enum class admission { admitted, parked };

// The peer's outbound queue holds `hard_limit` messages whose outcome is not known yet.
class outbound_queue_full : public ActorSystemException {
 public:
  outbound_queue_full(std::string_view peer, std::size_t depth, std::size_t limit);
};

// A send on a channel that has been closed (or that closed while the send waited for room).
class channel_closed : public ActorSystemException {
 public:
  using ActorSystemException::ActorSystemException;
};

template <class Endpoint>
class channel {
 public:
  using endpoint_type = Endpoint;

  channel() = default;
  channel(const channel&) = delete;
  channel& operator=(const channel&) = delete;
  virtual ~channel() = default;

  // Where peers reach this channel (a port chosen by the OS when asked for port 0).
  virtual Endpoint local_endpoint() const = 0;
  // The channel's I/O thread: deliver and outcome handlers run there.
  virtual asio::any_io_executor get_executor() = 0;

  // Any thread. Encodes `f` (throws frame_too_large, UnserializableMessage), then either admits
  // it into the peer's queue (returns admitted; on_admitted is dropped uncalled) or parks it
  // above the high-water mark (returns parked; on_admitted runs later on another thread, with
  // nullptr once admitted or channel_closed). Throws outbound_queue_full at the hard limit and
  // channel_closed after close(). Once admitted, on_outcome is called exactly once.
  virtual admission submit(const Endpoint& peer, frame f, outcome_handler on_outcome,
                           admitted_handler on_admitted) = 0;

  // Any thread, idempotent. Closes every connection; every message whose outcome is not known
  // gets send_status::failed ("channel closed"), and parked senders get channel_closed. After
  // it returns no handler runs any more.
  virtual void close() = 0;

  // True on the thread that runs this channel's I/O itself (transport_settings::io), where a
  // send that must wait keeps running it (run_io_once) instead of blocking.
  virtual bool io_runs_on_this_thread() const { return false; }
  // That thread only: runs one handler of the channel's io_context (blocking until one is
  // ready). false when nothing ran: the io_context is stopped or out of work for good.
  virtual bool run_io_once() { return false; }

  // For plain threads: submit(), blocking while the peer's queue is above its high-water mark.
  // On the thread that runs the channel's I/O (io_runs_on_this_thread), waiting keeps running
  // it: ACKs are read, incoming frames delivered (to mailboxes: an actor whose handler is
  // waiting here is not re-entered, it sees them after its handler returns), so that two such
  // processes flooding each other both make progress.
  void send(const Endpoint& peer, frame f, outcome_handler on_outcome) {
    if (io_runs_on_this_thread()) {
      send_running_io(peer, std::move(f), std::move(on_outcome));
      return;
    }
    // One per thread, reused (a mutex and a condition variable built and destroyed per message
    // were ~30 instructions of every pipelined send): the thread blocks below until the
    // handler has run whenever it may run, so no two sends of a thread ever share it.
    struct waiter {
      std::mutex mutex;
      std::condition_variable cv;
      bool done = false;
      std::exception_ptr error;
    };
    static thread_local waiter mine;
    waiter* const w = &mine;  // the handler runs on another thread: it must not name `mine`
    w->done = false;
    w->error = nullptr;
    auto how = submit(peer, std::move(f), std::move(on_outcome), [w](std::exception_ptr e) {
      std::lock_guard lock(w->mutex);
      w->done = true;
      w->error = e;
      w->cv.notify_one();
    });
    if (how == admission::admitted) return;
    std::unique_lock lock(w->mutex);
    w->cv.wait(lock, [w] { return w->done; });
    if (std::exception_ptr error = std::exchange(w->error, nullptr)) std::rethrow_exception(error);
  }

  // send() on the thread that runs the I/O. The waiter is shared: a stopped io_context ends
  // the wait while the parked frame may still be admitted or refused later.
  void send_running_io(const Endpoint& peer, frame f, outcome_handler on_outcome) {
    struct waiter {
      std::mutex mutex;
      bool done = false;
      std::exception_ptr error;
    };
    auto w = std::make_shared<waiter>();
    auto how = submit(peer, std::move(f), std::move(on_outcome), [w, this](std::exception_ptr e) {
      {
        std::lock_guard lock(w->mutex);
        w->done = true;
        w->error = e;
      }
      // Refused from another thread (peer_gone): wake the runner to look again.
      if (!io_runs_on_this_thread()) asio::post(get_executor(), [] {});
    });
    if (how == admission::admitted) return;
    for (;;) {
      {
        std::lock_guard lock(w->mutex);
        if (w->done) break;
      }
      if (!run_io_once()) {
        throw channel_closed("send: the I/O of this channel stopped while the send waited for room");
      }
    }
    if (w->error) std::rethrow_exception(w->error);
  }

  // For coroutines and other completion tokens: completes with void(std::exception_ptr) once
  // the frame is admitted (a coroutine suspends above the high-water mark); the exception is
  // outbound_queue_full, channel_closed, frame_too_large or UnserializableMessage.
  template <class CompletionToken>
  auto async_send(const Endpoint& peer, frame f, outcome_handler on_outcome,
                  CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(std::exception_ptr)>(
        initiate_send{this}, token, peer, std::move(f), std::move(on_outcome));
  }

  // One message in flight: completes with void(std::exception_ptr, send_outcome) once the peer
  // answered (or the send failed). Used for round trips and by tests.
  template <class CompletionToken>
  auto async_send_and_wait(const Endpoint& peer, frame f, CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(std::exception_ptr, send_outcome)>(
        initiate_send_and_wait{this}, token, peer, std::move(f));
  }

 private:
  template <class Handler, class... Args>
  void complete_later(Handler handler, Args... args) {
    auto ex = asio::get_associated_executor(handler, get_executor());
    asio::post(ex, [handler = std::move(handler), args...]() mutable {
      std::move(handler)(std::move(args)...);
    });
  }
  // For outcomes, which never arrive inside submit(): a coroutine running on the channel's own
  // I/O thread resumes at once, without a trip through the scheduler (and its extra poll).
  template <class Handler, class... Args>
  void complete_now_or_later(Handler handler, Args... args) {
    auto ex = asio::get_associated_executor(handler, get_executor());
    asio::dispatch(ex, [handler = std::move(handler), args...]() mutable {
      std::move(handler)(std::move(args)...);
    });
  }

  struct initiate_send {
    channel* self;
    template <class Handler>
    void operator()(Handler handler, const Endpoint& peer, frame f, outcome_handler on_outcome) {
      auto slot = std::make_shared<Handler>(std::move(handler));
      channel* ch = self;
      try {
        auto how = ch->submit(peer, std::move(f), std::move(on_outcome),
                              [ch, slot](std::exception_ptr e) { ch->complete_later(std::move(*slot), e); });
        if (how == admission::admitted) ch->complete_later(std::move(*slot), std::exception_ptr{});
      } catch (...) {
        ch->complete_later(std::move(*slot), std::current_exception());
      }
    }
  };

  struct initiate_send_and_wait {
    channel* self;
    // One allocation per round trip: both handlers hold only this state's shared_ptr, which
    // fits an AnyInvocable's inline storage (a larger capture would be a heap block each).
    template <class Handler>
    struct state {
      channel* ch;
      Handler handler;
    };
    template <class Handler>
    void operator()(Handler handler, const Endpoint& peer, frame f) {
      auto slot = std::make_shared<state<Handler>>(state<Handler>{self, std::move(handler)});
      try {
        auto how = self->submit(
            peer, std::move(f),
            [slot](send_outcome o) {
              slot->ch->complete_now_or_later(std::move(slot->handler), std::exception_ptr{},
                                              std::move(o));
            },
            [slot](std::exception_ptr e) {
              if (e) slot->ch->complete_later(std::move(slot->handler), e, send_outcome{});
            });
        (void)how;
      } catch (...) {
        self->complete_later(std::move(slot->handler), std::current_exception(), send_outcome{});
      }
    }
  };
};

}  // namespace thespian::transport
