// The exceptions the library throws. Every one derives from ActorSystemException, and each
// what() names the thing that was wrong (address, type name, capability, timeout).
#pragma once

#include <stdexcept>
#include <string>

#include "thespian/export.hpp"

namespace thespian {

class THESPIAN_EXPORT ActorSystemException : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// tell/send to the null address, or to something that is not an address of this system.
class THESPIAN_EXPORT InvalidActorAddress : public ActorSystemException {
 public:
  using ActorSystemException::ActorSystemException;
};

// No system (local or in the convention) satisfies the actor type's requirements.
class THESPIAN_EXPORT NoCompatibleSystemForActor : public ActorSystemException {
 public:
  using ActorSystemException::ActorSystemException;
};

// Unknown actor type name, or a constructor that threw.
class THESPIAN_EXPORT InvalidActorSpecification : public ActorSystemException {
 public:
  using ActorSystemException::ActorSystemException;
};

class THESPIAN_EXPORT InvalidActorSourceHash : public ActorSystemException {
 public:
  using ActorSystemException::ActorSystemException;
};

class THESPIAN_EXPORT ActorSystemFailure : public ActorSystemException {
 public:
  using ActorSystemException::ActorSystemException;
};

class THESPIAN_EXPORT ActorSystemStartupFailure : public ActorSystemFailure {
 public:
  using ActorSystemFailure::ActorSystemFailure;
};

class THESPIAN_EXPORT ActorSystemRequestTimeout : public ActorSystemFailure {
 public:
  using ActorSystemFailure::ActorSystemFailure;
};

// A message of a type without THESPIAN_MESSAGE registration had to cross a process boundary.
class THESPIAN_EXPORT UnserializableMessage : public ActorSystemException {
 public:
  using ActorSystemException::ActorSystemException;
};

// Message::as<T>() on a message that does not hold a T.
class THESPIAN_EXPORT BadMessageCast : public ActorSystemException {
 public:
  using ActorSystemException::ActorSystemException;
};

}  // namespace thespian
