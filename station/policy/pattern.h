// A pattern of a profile (device ids, attributes, thing names): RE2 syntax,
// matched against the whole value. RE2 runs in time linear in the value and
// bounds its memory when it compiles, so no pattern an officer writes can
// make one request cost more than its length (std::regex backtracks, and
// libstdc++ overflowed on large repetition counts). docs/profiles.md says
// what RE2 leaves out (backreferences, lookaround).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "station/base/error.h"

namespace re2 {
class RE2;
}

namespace station::policy {

class Pattern {
 public:
  // At most kMaxPatternBytes; a pattern RE2 refuses or that compiles past
  // its memory bound is an error whose message says why.
  static Result<Pattern> Compile(const std::string& text);

  bool FullMatch(std::string_view value) const;
  const std::string& text() const noexcept { return text_; }

 private:
  Pattern(std::string text, std::shared_ptr<const re2::RE2> re) : text_(std::move(text)), re_(std::move(re)) {}
  std::string text_;
  std::shared_ptr<const re2::RE2> re_;  // immutable and thread-safe once compiled; copies share it
};

inline constexpr size_t kMaxPatternBytes = 512;

}  // namespace station::policy
