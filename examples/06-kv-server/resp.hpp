// RESP2 request parsing and reply encoding for the thespian-kv example.
//
// RespParser is incremental: feed() it whatever a read returned, then call next() until it says
// need_more. It handles pipelining (several commands in one read), commands split across reads
// at any byte, RESP arrays of bulk strings (what redis-cli and redis-benchmark send) and inline
// commands ("PING\r\n", with Redis's quoting rules). Declared lengths are checked against limits
// before anything is allocated, so "*99999999999\r\n" or "$1000000000000\r\n" costs nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kv {

struct RespLimits {
  std::size_t max_bulk_length = 512u * 1024 * 1024;    // Redis's proto-max-bulk-len
  std::int64_t max_multibulk_length = 1024 * 1024;     // arguments per command
  std::size_t max_inline_length = 64 * 1024;           // an inline command or a header line
  std::size_t max_buffered = 1024u * 1024 * 1024;      // Redis's client-query-buffer-limit
};

class RespParser {
 public:
  enum class Status { need_more, complete, error };

  explicit RespParser(RespLimits limits = {}) : limits_(limits) {}

  void feed(std::string_view data);
  // complete: `args` holds the command (empty for an empty inline line or "*0": skip it).
  // error: error() says why (without the "ERR Protocol error: " prefix); the stream is unusable.
  Status next(std::vector<std::string>& args);
  const std::string& error() const { return error_; }
  std::size_t buffered() const { return buf_.size() - pos_; }

 private:
  Status fail(std::string why);
  Status next_multibulk(std::vector<std::string>& args);
  Status next_inline(std::vector<std::string>& args);

  RespLimits limits_;
  std::string buf_;
  std::size_t pos_ = 0;  // first unconsumed byte of buf_
  std::string error_;
  // State of a multibulk command being received, so that a command arriving in many pieces is
  // not rescanned from its start each time. Offsets are relative to pos_.
  bool in_multibulk_ = false;
  std::int64_t expected_ = 0;
  std::size_t cursor_ = 0;
  std::vector<std::pair<std::size_t, std::size_t>> spans_;  // (offset, length) of each argument
};

// Strict integer parsing as Redis does it (string2ll): optional '-', digits, no leading zeros,
// no '+', no spaces, within int64.
std::optional<std::int64_t> parse_int64(std::string_view text);

// Redis's inline argument splitting (sdssplitargs): blanks separate, "..." with \n \r \t \b \a
// \\ \" \xHH escapes, '...' with \' only. nullopt for unbalanced quotes.
std::optional<std::vector<std::string>> split_inline(std::string_view line);

// Reply encoding, appended to `out`.
void append_simple(std::string& out, std::string_view text);  // +text
void append_error(std::string& out, std::string_view text);   // -text (CR/LF become spaces)
void append_integer(std::string& out, std::int64_t value);    // :value
void append_bulk(std::string& out, std::string_view value);   // $len value
void append_null(std::string& out);                           // $-1
void append_array_header(std::string& out, std::size_t count);  // *count

}  // namespace kv
