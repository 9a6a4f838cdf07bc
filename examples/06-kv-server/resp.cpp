// RESP2 parser and encoder: see resp.hpp.
#include "resp.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace kv {

namespace {

constexpr std::size_t kCompactAbove = 64 * 1024;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_blank(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\0' || c == '\v' || c == '\f';
}

}  // namespace

std::optional<std::int64_t> parse_int64(std::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  std::size_t digits = text[0] == '-' ? 1 : 0;
  if (digits == text.size()) return std::nullopt;
  if (text[digits] == '0' && (text.size() > digits + 1 || digits == 1)) return std::nullopt;
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<std::vector<std::string>> split_inline(std::string_view line) {
  std::vector<std::string> args;
  std::size_t i = 0;
  const std::size_t n = line.size();
  for (;;) {
    while (i < n && is_blank(line[i])) ++i;
    if (i == n) return args;
    std::string current;
    bool in_double = false, in_single = false, done = false;
    while (!done) {
      if (in_double) {
        if (i == n) return std::nullopt;  // unbalanced quotes
        if (line[i] == '\\' && i + 3 < n && line[i + 1] == 'x' && hex_value(line[i + 2]) >= 0 &&
            hex_value(line[i + 3]) >= 0) {
          current += static_cast<char>(hex_value(line[i + 2]) * 16 + hex_value(line[i + 3]));
          i += 3;
        } else if (line[i] == '\\' && i + 1 < n) {
          ++i;
          switch (line[i]) {
            case 'n': current += '\n'; break;
            case 'r': current += '\r'; break;
            case 't': current += '\t'; break;
            case 'b': current += '\b'; break;
            case 'a': current += '\a'; break;
            default: current += line[i]; break;
          }
        } else if (line[i] == '"') {
          // The closing quote must be followed by a blank or the end.
          if (i + 1 < n && !is_blank(line[i + 1])) return std::nullopt;
          done = true;
        } else {
          current += line[i];
        }
      } else if (in_single) {
        if (i == n) return std::nullopt;
        if (line[i] == '\\' && i + 1 < n && line[i + 1] == '\'') {
          ++i;
          current += '\'';
        } else if (line[i] == '\'') {
          if (i + 1 < n && !is_blank(line[i + 1])) return std::nullopt;
          done = true;
        } else {
          current += line[i];
        }
      } else {
        if (i == n) {
          done = true;
          break;
        }
        switch (line[i]) {
          case ' ': case '\n': case '\r': case '\t': case '\0': case '\v': case '\f':
            done = true;
            break;
          case '"': in_double = true; break;
          case '\'': in_single = true; break;
          default: current += line[i]; break;
        }
      }
      if (i < n) ++i;
    }
    args.push_back(std::move(current));
  }
}

void RespParser::feed(std::string_view data) {
  if (pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  } else if (pos_ > kCompactAbove && pos_ * 2 > buf_.size()) {
    buf_.erase(0, pos_);  // offsets in spans_/cursor_ are relative to pos_: still valid
    pos_ = 0;
  }
  buf_.append(data);
}

RespParser::Status RespParser::fail(std::string why) {
  error_ = std::move(why);
  return Status::error;
}

RespParser::Status RespParser::next(std::vector<std::string>& args) {
  args.clear();
  if (!error_.empty()) return Status::error;
  if (buffered() > limits_.max_buffered) return fail("query buffer limit exceeded");
  if (in_multibulk_) return next_multibulk(args);
  if (pos_ == buf_.size()) return Status::need_more;
  if (buf_[pos_] == '*') return next_multibulk(args);
  return next_inline(args);
}

RespParser::Status RespParser::next_inline(std::vector<std::string>& args) {
  const char* begin = buf_.data() + pos_;
  const std::size_t avail = buf_.size() - pos_;
  const void* nl = std::memchr(begin, '\n', avail);
  if (!nl) {
    if (avail > limits_.max_inline_length) return fail("too big inline request");
    return Status::need_more;
  }
  std::size_t len = static_cast<const char*>(nl) - begin;
  if (len > limits_.max_inline_length) return fail("too big inline request");
  pos_ += len + 1;
  if (len > 0 && begin[len - 1] == '\r') --len;
  auto split = split_inline(std::string_view(begin, len));
  if (!split) return fail("unbalanced quotes in request");
  args = std::move(*split);
  return Status::complete;
}

RespParser::Status RespParser::next_multibulk(std::vector<std::string>& args) {
  const std::size_t avail = buf_.size() - pos_;
  const char* base = buf_.data() + pos_;
  // Finds the CRLF-terminated line starting at `from` (relative); npos when incomplete.
  auto line_end = [&](std::size_t from) -> std::size_t {
    const void* cr = std::memchr(base + from, '\r', avail - from);
    if (!cr) return std::string::npos;
    std::size_t at = static_cast<const char*>(cr) - base;
    if (at + 1 >= avail) return std::string::npos;  // need the '\n' too
    return at;
  };

  if (!in_multibulk_) {
    std::size_t cr = line_end(1);
    if (cr == std::string::npos) {
      if (avail > limits_.max_inline_length) return fail("too big mbulk count string");
      return Status::need_more;
    }
    if (base[cr + 1] != '\n') return fail("invalid multibulk length");
    auto count = parse_int64(std::string_view(base + 1, cr - 1));
    if (!count || *count > limits_.max_multibulk_length) return fail("invalid multibulk length");
    if (*count <= 0) {  // "*0" / "*-1": nothing to run
      pos_ += cr + 2;
      return Status::complete;
    }
    in_multibulk_ = true;
    expected_ = *count;
    cursor_ = cr + 2;
    spans_.clear();
    spans_.reserve(static_cast<std::size_t>(std::min<std::int64_t>(expected_, 1024)));
  }

  while (static_cast<std::int64_t>(spans_.size()) < expected_) {
    if (cursor_ >= avail) return Status::need_more;
    if (base[cursor_] != '$') {
      return fail(std::string("expected '$', got '") + base[cursor_] + "'");
    }
    std::size_t cr = line_end(cursor_ + 1);
    if (cr == std::string::npos) {
      if (avail - cursor_ > limits_.max_inline_length) return fail("too big bulk count string");
      return Status::need_more;
    }
    if (base[cr + 1] != '\n') return fail("invalid bulk length");
    auto len = parse_int64(std::string_view(base + cursor_ + 1, cr - cursor_ - 1));
    if (!len || *len < 0 || static_cast<std::uint64_t>(*len) > limits_.max_bulk_length) {
      return fail("invalid bulk length");
    }
    const std::size_t data = cr + 2;
    const std::size_t need = data + static_cast<std::size_t>(*len) + 2;
    if (need > avail) return Status::need_more;  // wait for the bytes; nothing allocated yet
    if (base[need - 2] != '\r' || base[need - 1] != '\n') {
      return fail("expected CRLF after bulk string");
    }
    spans_.emplace_back(data, static_cast<std::size_t>(*len));
    cursor_ = need;
  }

  args.reserve(spans_.size());
  for (const auto& [offset, length] : spans_) args.emplace_back(base + offset, length);
  pos_ += cursor_;
  in_multibulk_ = false;
  spans_.clear();
  cursor_ = 0;
  expected_ = 0;
  return Status::complete;
}

void append_simple(std::string& out, std::string_view text) {
  out += '+';
  out += text;
  out += "\r\n";
}

void append_error(std::string& out, std::string_view text) {
  out += '-';
  for (char c : text) out += (c == '\r' || c == '\n') ? ' ' : c;
  out += "\r\n";
}

void append_integer(std::string& out, std::int64_t value) {
  out += ':';
  out += std::to_string(value);
  out += "\r\n";
}

void append_bulk(std::string& out, std::string_view value) {
  out += '$';
  out += std::to_string(value.size());
  out += "\r\n";
  out += value;
  out += "\r\n";
}

void append_null(std::string& out) { out += "$-1\r\n"; }

void append_array_header(std::string& out, std::size_t count) {
  out += '*';
  out += std::to_string(count);
  out += "\r\n";
}

}  // namespace kv
