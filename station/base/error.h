// The one error type that crosses every layer of the station.
//
// It lives in base/, the bottom library that every other one (hsm/ included)
// may use and that uses none of them. A failure carries a
// code (what kind of failure, which decides the gRPC status), a reason (a
// stable UPPER_SNAKE name a program can match) and a message (a sentence a
// person can act on, including the underlying cause: CK_RV name, OpenSSL
// error text or errno).
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace station {

// Numbered as gRPC status codes so that a SignResponse.code can carry them,
// but the mapping to grpc::Status still happens in one place (server/status).
enum class Code : int {
  kOk = 0,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
};

// "INVALID_ARGUMENT" for kInvalidArgument, and so on.
const char* CodeName(Code code) noexcept;

// The failures the station acts on, not only reports: set where the failure
// is made and tested by value, so no behaviour hangs on a reason's spelling.
enum class Fault : int {
  kNone = 0,
  kSignatureInvalid,  // the token's signature did not verify: issuance halts
  kLoginFailed,       // the token refused the PIN: never offered again, keys not looked up again
  kStoreConflict,     // a shared store lost a batch to another station's: the writer runs it again
  kStoreUnreachable,  // a shared store could not be reached: a commit's outcome is unknown
};

struct Error {
  Code code = Code::kInternal;
  Fault fault = Fault::kNone;
  std::string reason;   // UPPER_SNAKE, stable, documented in the README
  std::string message;  // for people; never holds a secret

  std::string ToString() const;  // "CODE REASON: message"
};

inline Error MakeError(Code code, std::string reason, std::string message) {
  return Error{code, Fault::kNone, std::move(reason), std::move(message)};
}
inline Error MakeFault(Fault fault, Code code, std::string reason, std::string message) {
  return Error{code, fault, std::move(reason), std::move(message)};
}

// Either a T or an Error. No exceptions cross a layer boundary.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT

  bool ok() const noexcept { return v_.index() == 0; }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const Error& error() const { return std::get<1>(v_); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Error> v_;
};

// A Result with nothing in it on success.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  bool ok() const noexcept { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace station

#define ST_CONCAT_INNER(a, b) a##b
#define ST_CONCAT(a, b) ST_CONCAT_INNER(a, b)

// Returns the error of a failed Result from the enclosing function.
#define ST_RETURN_IF_ERROR(expr)                      \
  do {                                                \
    auto st_status_ = (expr);                         \
    if (!st_status_.ok()) return st_status_.error();  \
  } while (0)

// `ST_ASSIGN_OR_RETURN(auto x, MakeX());` binds x to the value or returns the error.
#define ST_ASSIGN_OR_RETURN(lhs, expr) \
  ST_ASSIGN_OR_RETURN_IMPL(ST_CONCAT(st_result_, __LINE__), lhs, expr)
#define ST_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.error();             \
  lhs = std::move(tmp).value()
