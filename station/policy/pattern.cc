#include "station/policy/pattern.h"

#include <re2/re2.h>

namespace station::policy {
namespace {

// Ids are at most a few hundred characters; a pattern whose program needs
// more than this is refused when the profile loads.
constexpr int64_t kMaxProgramBytes = 1 << 20;

}  // namespace

Result<Pattern> Pattern::Compile(const std::string& text) {
  if (text.size() > kMaxPatternBytes)
    return MakeError(Code::kInvalidArgument, "PATTERN_INVALID",
                     "longer than " + std::to_string(kMaxPatternBytes) + " characters");
  RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(kMaxProgramBytes);
  auto re = std::make_shared<const re2::RE2>(text, options);
  if (!re->ok())
    return MakeError(Code::kInvalidArgument, "PATTERN_INVALID", "not an RE2 regular expression: " + re->error());
  return Pattern(text, std::move(re));
}

bool Pattern::FullMatch(std::string_view value) const {
  return re2::RE2::FullMatch(re2::StringPiece(value.data(), value.size()), *re_);
}

}  // namespace station::policy
