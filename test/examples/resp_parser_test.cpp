// Plain unit test (no Boost.Test) of the thespian-kv RESP parser: pipelining, commands split at
// every byte, inline commands and quoting, protocol errors, and limits checked before allocating.
// Exits non-zero on any failure.
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "resp.hpp"

namespace {

int failures = 0;

void check(bool ok, const std::string& what) {
  if (!ok) {
    ++failures;
    std::cerr << "FAIL: " << what << "\n";
  }
}

using Args = std::vector<std::string>;
using Status = kv::RespParser::Status;

// Feeds `input` in pieces of `step` bytes; collects every complete non-empty command.
std::vector<Args> parse_all(const std::string& input, std::size_t step, std::string* error = nullptr,
                            kv::RespLimits limits = {}) {
  kv::RespParser p(limits);
  std::vector<Args> out;
  Args args;
  for (std::size_t i = 0; i < input.size(); i += step) {
    p.feed(std::string_view(input).substr(i, step));
    for (;;) {
      Status s = p.next(args);
      if (s == Status::need_more) break;
      if (s == Status::error) {
        if (error) *error = p.error();
        return out;
      }
      if (!args.empty()) out.push_back(args);
    }
  }
  return out;
}

std::string error_of(const std::string& input, kv::RespLimits limits = {}) {
  std::string e;
  parse_all(input, input.size() ? input.size() : 1, &e, limits);
  return e;
}

}  // namespace

int main() {
  const std::string pipeline =
      "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nv\r\nxy\r\n"   // binary-safe value with CRLF inside
      "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
      "PING\r\n"
      "*0\r\n"
      "\r\n"
      "set \"a b\" 'c\\'d'\n"
      "*1\r\n$0\r\n\r\n";
  const std::vector<Args> expected = {
      {"SET", "k", "v\r\nxy"}, {"GET", "k"}, {"PING"}, {"set", "a b", "c'd"}, {""}};
  for (std::size_t step : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{7},
                           pipeline.size()}) {
    check(parse_all(pipeline, step) == expected, "pipeline in steps of " + std::to_string(step));
  }

  check(kv::split_inline("a \"\\x41\\n\" b") == std::optional<Args>(Args{"a", "A\n", "b"}),
        "inline escapes");
  check(!kv::split_inline("set \"abc"), "unbalanced double quote");
  check(!kv::split_inline("set 'abc"), "unbalanced single quote");

  check(error_of("*abc\r\n") == "invalid multibulk length", "bad multibulk length");
  check(error_of("*99999999999\r\n") == "invalid multibulk length", "huge multibulk length");
  check(error_of("*1\r\n$99999999999999\r\n") == "invalid bulk length", "huge bulk length");
  check(error_of("*1\r\n$-5\r\n") == "invalid bulk length", "negative bulk length");
  check(error_of("*1\r\n+OK\r\n") == "expected '$', got '+'", "not a bulk string");
  check(error_of("*1\r\n$3\r\nabcde\r\n") == "expected CRLF after bulk string", "bulk overrun");
  check(error_of("SET \"x\n") == "unbalanced quotes in request", "inline unbalanced");
  check(error_of(std::string(70000, 'a')) == "too big inline request", "inline too long");
  kv::RespLimits small;
  small.max_bulk_length = 10;
  check(error_of("*1\r\n$11\r\n", small) == "invalid bulk length", "bulk limit");

  // A 512 MB bulk declared but not sent: accepted as pending, nothing allocated for it.
  {
    kv::RespParser p;
    Args args;
    p.feed("*2\r\n$3\r\nGET\r\n$536870912\r\nabc");
    check(p.next(args) == Status::need_more && p.buffered() < 64, "declared 512MB waits");
  }

  check(kv::parse_int64("42") == 42 && kv::parse_int64("-7") == -7 && kv::parse_int64("0") == 0,
        "parse_int64 accepts");
  check(!kv::parse_int64("+1") && !kv::parse_int64("01") && !kv::parse_int64(" 1") &&
            !kv::parse_int64("-0") && !kv::parse_int64("9223372036854775808") &&
            !kv::parse_int64("") && !kv::parse_int64("1a"),
        "parse_int64 rejects");
  check(kv::parse_int64("-9223372036854775808").has_value(), "parse_int64 min");

  std::string out;
  kv::append_bulk(out, "hi");
  kv::append_null(out);
  kv::append_integer(out, -3);
  kv::append_error(out, "ERR a\r\nb");
  check(out == "$2\r\nhi\r\n$-1\r\n:-3\r\n-ERR a  b\r\n", "encoding");

  if (failures) {
    std::cerr << failures << " check(s) failed\n";
    return 1;
  }
  std::cout << "resp parser: all checks passed\n";
  return 0;
}
