// envelope: a message in flight, with its sender and what kind of delivery it is. Internal
// kinds let timers and ask replies travel through the same mailbox as user messages, so an
// actor's coroutine has exactly one thing to wait on.
#pragma once

#include <cstdint>

#include "thespian/address.hpp"
#include "thespian/message.hpp"

namespace thespian::detail {

enum class envelope_kind : std::uint8_t {
  user,         // an ordinary message
  wakeup,       // a WakeupMessage from wakeup_after; dropped (not dead-lettered) after exit
  ask_reply,    // the reply to the actor's pending ask `tag`
  ask_timeout,  // the timer of the actor's pending ask `tag` fired
  child_wait,   // the timer bounding how long an exiting actor waits for its children
  watch,        // a WatchMessage: watched descriptor `tag` is readable; dropped after unwatch/exit
};

// 32 bytes, not 40: the kind shares the tag's word (tags count asks, timers and watches from
// 1, so 56 bits never run out). Mailbox chunks move between the senders' cores and the
// receiver's, so each envelope's bytes are cache traffic.
struct envelope {
  Message message;
  ActorAddress sender;
  envelope_kind kind : 8 = envelope_kind::user;
  std::uint64_t tag : 56 = 0;
};
static_assert(sizeof(envelope) == 32);

// Makes a borrowed sender (ActorAddress::borrow, a gathered run's) hold its own reference:
// done to the last envelope of each run an actor's mailbox takes, and to every envelope
// delivered one at a time.
inline void own_sender(envelope& e) noexcept {
  if (e.sender.borrowed()) [[unlikely]] e.sender = ActorAddress(e.sender);
}

}  // namespace thespian::detail
