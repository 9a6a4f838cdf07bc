// Human-readable forms of ActorStatus and SystemStatus (what `thespian status` and the
// SIGUSR1 dump print).
#include <absl/strings/str_cat.h>
#include <absl/strings/str_join.h>

#include "thespian/system_messages.hpp"

namespace thespian {

std::string ActorStatus::format() const {
  std::string out = absl::StrCat("Actor ", address.to_string(), "\n");
  absl::StrAppend(&out, "  Type: ", type_name, "\n");
  absl::StrAppend(&out, "  Parent: ", parent ? parent.to_string() : "(none)", "\n");
  absl::StrAppend(&out, "  Children: ", children.size(), "\n");
  for (const ActorAddress& child : children) absl::StrAppend(&out, "    ", child.to_string(), "\n");
  absl::StrAppend(&out, "  Pending messages: ", pending_messages, "\n");
  absl::StrAppend(&out, "  Pending wakeups: ", pending_wakeups, "\n");
  absl::StrAppend(&out, "  Received: ", received, "\n");
  absl::StrAppend(&out, "  Sent: ", sent, "\n");
  return out;
}

std::string SystemStatus::format() const {
  std::string out = absl::StrCat("ActorSystem ", admin_address, " (", base, ")\n");
  absl::StrAppend(&out, "  Actors: ", actor_count, "\n");
  absl::StrAppend(&out, "  Capabilities:\n");
  for (const auto& [name, value] : capabilities) {
    absl::StrAppend(&out, "    ", name, ": ", to_string(value), "\n");
  }
  absl::StrAppend(&out, "  Convention leader: ",
                  convention_leader.empty() ? "(none)" : convention_leader, "\n");
  absl::StrAppend(&out, "  Convention members: ",
                  convention_members.empty() ? "(none)" : absl::StrJoin(convention_members, ", "),
                  "\n");
  absl::StrAppend(&out, "  Global names: ", global_names.size(), "\n");
  for (const auto& [name, address] : global_names) {
    absl::StrAppend(&out, "    ", name, " -> ", address.to_string(), "\n");
  }
  absl::StrAppend(&out, "  Dead letter handler: ",
                  dead_letter_handler ? dead_letter_handler.to_string() : "(none)", "\n");
  absl::StrAppend(&out, "  Source authority: ",
                  source_authority ? source_authority.to_string() : "(none)", "\n");
  absl::StrAppend(&out, "  Loaded sources: ",
                  loaded_sources.empty() ? "(none)" : absl::StrJoin(loaded_sources, ", "), "\n");
  return out;
}

}  // namespace thespian
