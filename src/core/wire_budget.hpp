// Tells the hardened cereal loads (thespian/detail/bounded_load.hpp) how many bytes of the
// frame payload being decoded on this thread are still unread, so that an element count read
// from the wire is checked before anything is allocated for it. A transport's decoder opens a
// wire_budget_scope around its cereal load; scopes nest and belong to one thread.
#pragma once

#include <cstddef>

namespace thespian::detail {

// Whatever the decoder reads from; remaining() is the number of bytes not yet consumed.
class wire_byte_source {
 public:
  virtual std::size_t remaining() const noexcept = 0;

 protected:
  ~wire_byte_source() = default;
};

class wire_budget_scope {
 public:
  explicit wire_budget_scope(const wire_byte_source& source) noexcept;
  ~wire_budget_scope();
  wire_budget_scope(const wire_budget_scope&) = delete;
  wire_budget_scope& operator=(const wire_budget_scope&) = delete;

 private:
  const wire_byte_source* previous_;
};

}  // namespace thespian::detail
