// One cereal archive per thread, reused for frame after frame by the encoder (frame.cpp) and the
// decoder (frame_decoder.cpp). A cereal archive is made for one serialisation; constructing and
// destroying one per frame (its containers for shared-pointer ids, polymorphic type ids, class
// versions, base classes and deferred functions) cost ~200 instructions per frame on each side,
// over a tenth of a small message's whole cost. An archive whose containers are all empty and whose
// id counters are where they start is in the state of a fresh one, so a thread keeps one and
// rebuilds it only after a message left something in it (shared pointers, polymorphic or
// versioned types...). Every frame is still written and read as by a fresh archive: frames stay
// independent of each other on the wire, and a frame decodes by the same rules as before.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <cereal/archives/portable_binary.hpp>
#include <cereal/version.hpp>

static_assert(CEREAL_VERSION == 10302,
              "archive_reuse.hpp reads cereal 1.3.2's archive bookkeeping: check its members");

namespace thespian::transport::archive_reuse {

using output_base = cereal::OutputArchive<cereal::PortableBinaryOutputArchive,
                                          cereal::AllowEmptyClassElision>;
using input_base = cereal::InputArchive<cereal::PortableBinaryInputArchive,
                                        cereal::AllowEmptyClassElision>;
using base_class_set = std::unordered_set<cereal::traits::detail::base_class_id,
                                          cereal::traits::detail::base_class_id_hash>;
using deferments = std::vector<std::function<void(void)>>;
using out_pointer_id_map = std::unordered_map<void const*, std::uint32_t>;
using out_type_id_map = std::unordered_map<char const*, std::uint32_t>;
using out_pointer_storage = std::vector<std::shared_ptr<const void>>;
using out_version_set = std::unordered_set<cereal::size_type>;
using in_pointer_map = std::unordered_map<std::uint32_t, std::shared_ptr<void>>;
using in_type_name_map = std::unordered_map<std::uint32_t, std::string>;
using in_version_map = std::unordered_map<std::size_t, std::uint32_t>;

// cereal offers no way to ask an archive whether it is still pristine, and its bookkeeping is
// private. An explicit instantiation may name private members ([temp.spec.general]/6): each tag
// below is given a pointer to one member that way, through a friend defined in `expose`.
template <class Tag, typename Tag::type Member>
struct expose {
  friend typename Tag::type member_of(Tag) { return Member; }
};

#define THESPIAN_ARCHIVE_MEMBER(tag, base, member_type, member)         \
  struct tag {                                                           \
    using type = member_type base::*;                                    \
    friend type member_of(tag);                                          \
  };                                                                     \
  template struct expose<tag, &base::member>

THESPIAN_ARCHIVE_MEMBER(out_base_classes, output_base, base_class_set, itsBaseClassSet);
THESPIAN_ARCHIVE_MEMBER(out_pointer_ids, output_base, out_pointer_id_map, itsSharedPointerMap);
THESPIAN_ARCHIVE_MEMBER(out_pointers, output_base, out_pointer_storage, itsSharedPointerStorage);
THESPIAN_ARCHIVE_MEMBER(out_next_pointer_id, output_base, std::uint32_t, itsCurrentPointerId);
THESPIAN_ARCHIVE_MEMBER(out_type_ids, output_base, out_type_id_map, itsPolymorphicTypeMap);
THESPIAN_ARCHIVE_MEMBER(out_next_type_id, output_base, std::uint32_t, itsCurrentPolymorphicTypeId);
THESPIAN_ARCHIVE_MEMBER(out_versions, output_base, out_version_set, itsVersionedTypes);
THESPIAN_ARCHIVE_MEMBER(out_deferments, output_base, deferments, itsDeferments);
THESPIAN_ARCHIVE_MEMBER(in_base_classes, input_base, base_class_set, itsBaseClassSet);
THESPIAN_ARCHIVE_MEMBER(in_pointers, input_base, in_pointer_map, itsSharedPointerMap);
THESPIAN_ARCHIVE_MEMBER(in_type_names, input_base, in_type_name_map, itsPolymorphicTypeMap);
THESPIAN_ARCHIVE_MEMBER(in_versions, input_base, in_version_map, itsVersionedTypes);
THESPIAN_ARCHIVE_MEMBER(in_deferments, input_base, deferments, itsDeferments);

#undef THESPIAN_ARCHIVE_MEMBER

// Whether `a` is in the state cereal's constructor leaves an archive in.
inline bool pristine(const cereal::PortableBinaryOutputArchive& archive) {
  const output_base& a = archive;
  return (a.*member_of(out_base_classes{})).empty() && (a.*member_of(out_pointer_ids{})).empty() &&
         (a.*member_of(out_pointers{})).empty() && a.*member_of(out_next_pointer_id{}) == 1 &&
         (a.*member_of(out_type_ids{})).empty() && a.*member_of(out_next_type_id{}) == 1 &&
         (a.*member_of(out_versions{})).empty() && (a.*member_of(out_deferments{})).empty();
}

inline bool pristine(const cereal::PortableBinaryInputArchive& archive) {
  const input_base& a = archive;
  return (a.*member_of(in_base_classes{})).empty() && (a.*member_of(in_pointers{})).empty() &&
         (a.*member_of(in_type_names{})).empty() && (a.*member_of(in_versions{})).empty() &&
         (a.*member_of(in_deferments{})).empty();
}

// A thread's archive over one stream (which must outlive it). Use: archive() returns a pristine
// archive, built when needed (its constructor writes or reads the endianness byte through the
// stream, which the caller must then have pointed at that byte; built() tells beforehand); after
// a message, done() drops the archive if the message left anything in it; after a failure,
// drop() drops it whatever it holds.
template <class Archive, class Stream>
class reusable {
 public:
  explicit reusable(Stream& stream) : stream_(stream) {}
  bool built() const noexcept { return archive_.has_value(); }
  Archive& archive() {
    if (!archive_) archive_.emplace(stream_);
    return *archive_;
  }
  void done() noexcept {
    if (archive_ && !pristine(*archive_)) archive_.reset();
  }
  void drop() noexcept { archive_.reset(); }

 private:
  Stream& stream_;
  std::optional<Archive> archive_;
};

}  // namespace thespian::transport::archive_reuse
