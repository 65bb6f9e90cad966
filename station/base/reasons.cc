#include "station/base/reasons.h"

#include <array>

namespace station::base {
namespace {

using enum Code;

// Answers to a line first, then what a station says when it starts, the Officer
// service, and last the tools (stationctl, station-line). Keep each meaning one
// line of Markdown without '|': it is a cell of the README's table.
constexpr std::array kRows = std::to_array<ReasonRow>({
    // Answers to a line: per item in SignResponse, or as the call's status.
    {"CSR_EMPTY", kInvalidArgument, "", "`csr_der` is empty"},
    {"CSR_TOO_LARGE", kInvalidArgument, "", "larger than `issuance.max_csr_bytes` (16 KiB)"},
    {"CSR_MALFORMED", kInvalidArgument, "",
     "not a strict-DER PKCS#10 v1 request (PEM must be converted; no indefinite or padded lengths), truncated, or "
     "trailing bytes"},
    {"CSR_BAD_SIGNATURE", kInvalidArgument, "",
     "the CSR's signature does not verify with its key (altered, or no proof of possession), or is not ECDSA / "
     "PKCS#1 v1.5 with SHA-256, SHA-384 or SHA-512 (SHA-1 is refused)"},
    {"KEY_UNSUPPORTED", kInvalidArgument, "", "key type or curve not accepted (EC P-256/P-384, RSA 2048–4096)"},
    {"KEY_NOT_ALLOWED", kInvalidArgument, "", "the profile does not accept this key type or size"},
    {"RSA_TOO_SHORT", kInvalidArgument, "", "RSA below 2048 bits, or below the profile's `rsa_min_bits`"},
    {"RSA_EXPONENT_WEAK, RSA_EXPONENT_TOO_LARGE", kInvalidArgument, "",
     "public exponent even or below 65537 / of more than 32 bits (each bit costs every verify)"},
    {"KEY_NOT_CANONICAL", kInvalidArgument, "",
     "the key is not in its one DER encoding: an EC point compressed or hybrid (send 04‖X‖Y), RSA parameters other "
     "than NULL, or INTEGERs with leading zeros. One key, one encoding, one certificate"},
    {"RSA_SMALL_FACTOR", kInvalidArgument, "",
     "the modulus has a prime factor below 65536: the device's key generator is broken"},
    {"RSA_FERMAT_FACTORABLE", kInvalidArgument, "", "the primes are so close that Fermat's method factors the modulus"},
    {"RSA_ROCA_VULNERABLE", kInvalidArgument, "",
     "an Infineon RSALib key (ROCA, CVE-2017-15361): its private key can be computed"},
    {"EC_POINT_NOT_ON_CURVE, EC_POINT_AT_INFINITY", kInvalidArgument, "", "the EC public key is not a valid point"},
    {"DEVICE_ID_REQUIRED, ATTRIBUTE_MISSING", kInvalidArgument, "", "the profile needs a device_id / this attribute"},
    {"ATTRIBUTE_INVALID, ATTRIBUTE_NOT_ALLOWED", kInvalidArgument, "",
     "an attribute fails the profile's pattern / the profile does not take it"},
    {"THING_NAME_REQUIRED, THING_NAME_INVALID, THING_TYPE_INVALID, THING_ATTRIBUTE_INVALID, THING_INVALID",
     kInvalidArgument, "",
     "the AWS IoT thing fields break AWS's rules or the profile's"},
    {"SUBJECT_INVALID, SUBJECT_ISSUER_MISMATCH, SAN_INVALID", kInvalidArgument, "",
     "a subject or SAN value the certificate cannot carry (a CSR subject with control characters or NUL, a string "
     "type other than UTF8String/PrintableString/IA5String, an OU naming a station role: `line`, `officer`); a value "
     "(Matter VID) that differs from the CA's"},
    {"PROFILE_REQUIRED", kInvalidArgument, "",
     "the request names no profile and the station has no `[issuance] default_profile`"},
    {"REQUEST_ID_INVALID", kInvalidArgument, "", "request_id empty, over 128 characters, or not printable ASCII"},
    {"DEVICE_ID_INVALID", kInvalidArgument, "", "device_id over 64 characters or not printable ASCII"},
    {"ATTRIBUTES_INVALID", kInvalidArgument, "", "over 32 attributes, or a key/value over its bound"},
    {"SUBJECT_MISSING", kInvalidArgument, "", "the profile yields an empty subject (no device_id, no CSR subject)"},
    {"ROLE_NOT_ALLOWED", kPermissionDenied, "",
     "the client certificate's role (OU) may not make this call: an officer's may not request device certificates, "
     "a line's may not call the Officer service"},
    {"UNKNOWN_PROFILE", kPermissionDenied, "",
     "the named profile does not exist on this station (the message lists those that do)"},
    {"PROFILE_NOT_ALLOWED", kPermissionDenied, "", "this line is not in the profile's `lines`"},
    {"DEVICE_NOT_AUTHORIZED", kPermissionDenied, "",
     "not on an open lot; or the registration code is missing, unknown, used or expired"},
    {"CALLER_UNAUTHENTICATED, ROLE_UNKNOWN", kPermissionDenied, "",
     "no usable client certificate, or its OU is neither `line` nor `officer`"},
    {"REQUEST_ID_REUSED", kFailedPrecondition, "",
     "this line used the request_id before for a different CSR; use a new one"},
    {"DUPLICATE_KEY", kFailedPrecondition, "",
     "this public key was certified before (any profile); each device needs its own key"},
    {"DUPLICATE_DEVICE", kFailedPrecondition, "",
     "the device has a certificate of this one-per-device profile; an officer may approve a reissue"},
    {"QUEUE_FULL", kResourceExhausted, "", "the station's queue is full; back off and retry with the same request_id"},
    {"TOO_MANY_STREAMS, TOO_MANY_STREAMS_FOR_LINE", kResourceExhausted, "",
     "more than `limits.max_streams` streams (and unary `Sign` calls in work) open, or than "
     "`limits.max_streams_per_line` from this line"},
    {"TOKEN_UNAVAILABLE, TOKEN_BUSY", kUnavailable, "",
     "the token failed or is saturated; retry with the same request_id"},
    {"TOKEN_TIMEOUT, TOKEN_STALLED", kUnavailable, "",
     "the token did not sign within `[token] sign_timeout` / every signer is stuck in the token; retry with the same "
     "request_id ([docs/faults.md](docs/faults.md))"},
    {"TOKEN_LOGIN_FAILED", kUnavailable, "",
     "after an HSM restart the token refused the PIN; the station never offers it again: fix the PIN, restart the "
     "station"},
    {"KEY_GONE", kUnavailable, "",
     "a CA key the station signs with was not found again when the token came back (deleted, or the HSM lost it): "
     "retry, and tell the operator, who restores the key or starts the station with another CA"},
    {"CA_RETIRE_PENDING", kUnavailable, "",
     "the CA was retired a moment ago while signatures with it were still in flight; retry with the same request_id"},
    {"SIGNATURE_INVALID, ISSUANCE_HALTED", kInternal, "",
     "the token's signature did not verify with the CA certificate: the certificate was withheld and issuance stops "
     "until an operator checks the token and restarts the station (an `ALARM` line in the log)"},
    {"AUDIT_UNAVAILABLE", kUnavailable, "", "the audit log could not be made durable; nothing was issued; retry"},
    {"STORE_UNAVAILABLE", kUnavailable, "",
     "the shared PostgreSQL store cannot be reached (down, failing over); nothing was issued; retry with the same "
     "request_id. The station reconnects by itself ([docs/scaling.md](docs/scaling.md))"},
    {"REQUEST_IN_FLIGHT", kAborted, "",
     "another station of the fleet is answering this line's request_id at this moment; retry it"},
    {"CA_RETIRED", kFailedPrecondition, "",
     "the issuing CA of the profile was retired and no successor is active (also `GetCaChain`); an officer must "
     "activate one. At start: the `[ca]` issuer has no active CA, and the station does not start until `[ca]` names "
     "a new CA key and certificate"},
    {"SHUTTING_DOWN", kUnavailable, "", "the station is stopping; retry with the same request_id"},
    {"CERT_BUILD_FAILED, SIGNING_FAILED, TOKEN_ERROR, SERIAL_COLLISION", kInternal, "",
     "a station fault; retry, and tell the operator"},

    // When a station starts (it exits; docs/operations.md gives the exit codes).
    {"STORE_MOVED", kFailedPrecondition, "server start",
     "this state_dir's SQLite log was moved to the shared store (`stationctl store migrate`): give station.conf the "
     "`[store]` it printed. `audit verify` still reads the file"},
    {"STATION_ID_IN_USE", kFailedPrecondition, "server start",
     "another running process writes this `[store] station_id`'s log: give each station its own id"},
    {"RUNS_AS_ROOT, PIN_UNAVAILABLE, TLS_CRL_INVALID", kFailedPrecondition, "server start",
     "started as root without `--allow-root`; a PIN or TLS key file readable by group or others (`chmod 600`), "
     "missing or empty; `[tls] crl` not a PEM list, not signed by `client_ca`, or past its nextUpdate"},
    {"AUDIT_LOG_BROKEN", kDataLoss, "server start",
     "the audit log does not verify since its last checkpoint, was cut back behind it, or misses or doubles a record "
     "below it: the server refuses to start; keep the file, run `stationctl audit verify`"},
    {"AUDIT_STATE_BROKEN", kDataLoss, "server start",
     "a row of the CA set, profile lines, approvals, reissue approvals, registration codes or lots that no officer "
     "record vouches for, that changed since its record, or a code or approval marked unused although a record used "
     "it: the server refuses to start; `stationctl audit verify` names the rows ([docs/faults.md](docs/faults.md))"},
    {"AUDIT_SCHEMA_MISMATCH", kFailedPrecondition, "server start",
     "the state database is of an older schema (before schema 6 its registry rows carry no record's commitment): "
     "keep it for the record and start with a new `state_dir`"},
    {"CA_STATE_INVALID", kDataLoss, "server start",
     "the state database names a CA state the station does not know: it was written by something else; keep it, run "
     "`stationctl audit verify`"},
    {"TLS_CLIENT_CA_ISSUES_DEVICES", kFailedPrecondition, "server start",
     "`[tls] client_ca` is an issuing CA, or in one chain with one: device certificates would be station credentials"},
    {"CLAIM_CA_SHARED", kFailedPrecondition, "server start",
     "a claim profile (`[aws] claim`) and a JITR profile share a CA key: a claim certificate would register as a "
     "device. Give the claim profile its own `[ca]`"},
    {"AUDIT_KEY_NOT_CONFIGURED, AUDIT_KEY_MISMATCH", kFailedPrecondition, "server start",
     "no `[audit]` key, or its public key file is not the token key's"},
    {"AUDIT_KEY_MISSING, AUDIT_KEY_INVALID", kFailedPrecondition, "server start, `audit` commands",
     "the audit public key file cannot be read (made by `stationctl audit init-key`) / is not an Ed25519 or P-256 "
     "key, or the token key is of another kind"},
    {"KEY_EXTRACTABLE, KEY_NOT_LOCAL, KEY_NOT_SENSITIVE, KEY_NOT_PRIVATE, KEY_NOT_ON_TOKEN, KEY_CANNOT_SIGN, "
     "KEY_USAGE_TOO_BROAD",
     kFailedPrecondition, "server start, `ca` commands",
     "a CA or audit key that can (or once could) leave the token, was imported rather than generated in it, or may do "
     "more than sign; generate a new one with `stationctl ca keygen` / `audit init-key`"},
    {"KEY_NOT_FOUND, KEY_AMBIGUOUS, KEY_WITHOUT_ID", kFailedPrecondition, "server start, `ca` commands",
     "no private key, or more than one, matches the key's PKCS#11 URI (`stationctl ca list`, `p11tool --list-all`); "
     "a key without a CKA_ID cannot be paired with its public key: generate keys with `stationctl ca keygen`"},
    {"UNSUPPORTED_CA_KEY, UNSUPPORTED_KEY", kFailedPrecondition, "server start, `ca` commands",
     "the CA key is Ed25519 (the station keeps it for audit checkpoints) or of a kind the station cannot sign with: "
     "use EC P-256/P-384 or RSA"},
    {"CA_CHAIN_INVALID, CA_CERT_NOT_CA, CA_CERT_KEY_MISMATCH, CA_ROOT_NOT_CONFIGURED, CA_CERT_EXPIRED",
     kFailedPrecondition, "server start, `ca import-cert`",
     "the CA certificate does not chain to `[ca] root`, is not a CA certificate, is not for the token key, or has "
     "expired: issue a new one"},
    {"TOKEN_NOT_FOUND, TOKEN_AMBIGUOUS", kFailedPrecondition, "server start, `ca` commands",
     "no token, or more than one, matches `[token] uri` in the module: check the label (`softhsm2-util "
     "--show-slots`, `p11tool --list-tokens`) and the HSM client's connection"},
    {"TOKEN_MODULE_NOT_FOUND, TOKEN_MODULE_LOAD_FAILED", kFailedPrecondition, "server start, `ca` commands",
     "the PKCS#11 module named by `[token] module` does not exist / cannot be loaded (is the HSM client or softhsm2 "
     "installed, and of this machine's architecture?)"},
    {"BAD_CONFIG, BAD_PROFILE", kFailedPrecondition, "server start",
     "a config or profile file the station cannot use (the message names the file and field): among them no "
     "`[issuance] profiles_dir`, no profile in it, or a `default_profile` that is not one of its files"},
    {"CONFIG_INVALID", kFailedPrecondition, "server start",
     "a station on a shared store needs `[store] station_id`"},
    {"STORE_PASSWORD_FILE", kFailedPrecondition, "server start, `store migrate`",
     "the `[store] password_file` cannot be read, or is readable by group or others (`chmod 600`)"},
    {"STATE_DIR, STATE_DIR_UNUSABLE", kFailedPrecondition, "server start",
     "the `state_dir` (or a directory in it) cannot be created: check its owner and mode (the `station` user, 0700)"},
    {"LISTEN_FAILED, METRICS_LISTEN_FAILED", kFailedPrecondition, "server start",
     "cannot listen on `listen` / `[metrics] listen`: the address is in use or not one of this machine's"},
    {"BAD_DURATION", kInvalidArgument, "server start, stationctl",
     "not a duration: write a number and a unit (90s, 5m, 24h, 30d, 10y)"},
    {"PATTERN_INVALID, TEMPLATE_INVALID, BAD_NAME", kInvalidArgument, "server start, `profile check`",
     "a profile's attribute pattern, subject template or distinguished name cannot be used (the message says where)"},
    {"BAD_PKCS11_URI", kInvalidArgument, "server start, `ca` commands",
     "not a PKCS#11 URI (RFC 7512) the station takes: `pkcs11:token=...;object=...`"},
    {"FILE_UNREADABLE, FILE_TOO_LARGE", kFailedPrecondition, "server start, stationctl",
     "a file named in the config or on the command line cannot be read / is larger than the station reads such a "
     "file"},
    {"BAD_CERTIFICATE_FILE", kFailedPrecondition, "server start, stationctl", "a file holds no PEM certificate"},
    {"BAD_CERTIFICATE, KEY_INVALID", kInvalidArgument, "stationctl",
     "a certificate is not DER / a file holds no PEM private key"},

    // The Officer service (stationctl with officer.conf): the call's status.
    {"OFFICER_NOT_MEMBER", kPermissionDenied, "Officer service",
     "the caller is an officer not in `[officers] members`"},
    {"OFFICERS_NOT_CONFIGURED", kFailedPrecondition, "Officer service", "the station config has no `[officers]`"},
    {"ISSUER_NOT_FOUND, CA_NOT_FOUND, PROFILE_NOT_FOUND", kNotFound, "Officer service",
     "no such issuer, CA (by key label or key id) or profile (`stationctl ca list`)"},
    {"CA_NOT_STAGED, CA_AMBIGUOUS", kFailedPrecondition, "Officer service",
     "only a staged CA can be activated; the CA label is in two issuers (name one)"},
    {"CA_EXISTS", kAlreadyExists, "Officer service", "the issuer has that CA already"},
    {"LINES_INVALID, LOT_INVALID", kInvalidArgument, "Officer service",
     "a profile line set that is empty, over 1000, or has an identity over 64 characters or with a control "
     "character; a lot whose name or ids are not 1 to 64 printable characters, repeat, or exceed 1,000,000"},
    {"LINES_UNCHANGED, PROFILE_MISMATCH", kFailedPrecondition, "Officer service",
     "the profile has exactly those lines already; a lot or codes for a profile whose `authorization` is not `lot` / "
     "`registration-code`"},
    {"LOT_EXISTS", kAlreadyExists, "Officer service", "the lot name is taken"},
    {"LOT_NOT_FOUND", kNotFound, "Officer service", "there is no such lot"},
    {"OFFICER_SERVICE_REQUIRED", kFailedPrecondition, "`lot`, `codes`, `device approve-reissue` with `station.conf`",
     "registry changes are officers' audit records: use `--config officer.conf` against the running station"},

    // stationctl and station-line.
    {"USAGE", kInvalidArgument, "every program",
     "a flag is unknown, missing or has a wrong value: the usage follows the message (`--help`); exit code 2"},
    {"REASON_UNKNOWN", kNotFound, "`reasons`", "`stationctl reasons` lists every reason there is"},
    {"RPC_FAILED, STATION_UNREACHABLE, NO_ANSWER", kUnavailable, "stationctl with officer.conf, `station-line`",
     "the station did not answer (not running, wrong `target`, TLS refused): the message has gRPC's words; "
     "`station-line simulate` counts an item the stream ended before answering as `NO_ANSWER`"},
    {"BAD_CHAIN, NO_CODES", kInternal, "`station-line`, `codes mint`",
     "the station answered a chain that does not parse / no codes: tell the operator"},
    {"LOT_FILE_INVALID", kInvalidArgument, "`lot import`",
     "a line of the devices file is not a device id the lot can take (the message names the line)"},
    {"ALREADY_SET_UP", kAlreadyExists, "`dev-setup`", "`--dir` already holds a station: choose another or remove it"},
    {"DEV_SETUP_FAILED", kFailedPrecondition, "`dev-setup`", "a file of the lab station cannot be created"},
    {"KEY_EXISTS", kAlreadyExists, "`ca keygen`, `audit init-key`, `dev-setup`",
     "the token has a key with that label already: keys are never replaced, choose another label"},
    {"BAD_KEY_LABEL, BAD_TOKEN_LABEL", kInvalidArgument, "`ca keygen`, `audit init-key`, `dev-setup`",
     "a key label is 1 to 128 characters, a token label at most 32 bytes"},
    {"UNSUPPORTED_KEY_ALGORITHM", kInvalidArgument, "`ca` commands",
     "`--algo`/`--key` is none of ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096"},
    {"AUDIT_KEY_CONFIGURED, FILE_EXISTS", kAlreadyExists, "`audit init-key`",
     "the config names an audit key already / the public key file exists: an audit key is never replaced"},
    {"BAD_AUDIT_ORIGIN", kInvalidArgument, "`audit init-key`",
     "`--origin` is 1 to 256 printable characters without spaces or '+'"},
    {"AUDIT_SIGNATURE_INVALID", kInternal, "signing a checkpoint",
     "the token's signature of a checkpoint does not verify with the audit key: nothing was stored as evidence; "
     "the token misbehaves, tell the operator"},
    {"AUDIT_CHECKPOINT_INVALID, BAD_AUDIT_RECORD, PROOF_INVALID", kDataLoss,
     "`audit verify`, `audit check-proof`, exports",
     "a checkpoint, a record or a proof does not verify: the log or the proof was altered or cut. Keep the files; "
     "[docs/audit.md](docs/audit.md) says how to find where"},
    {"AUDIT_NO_CHECKPOINT", kNotFound, "`audit prove`, exports",
     "the log has no signed checkpoint yet: wait for the first (every `[audit] checkpoint_every` records, and at "
     "shutdown)"},
    {"NOT_YET_CHECKPOINTED", kFailedPrecondition, "`audit prove`",
     "the record is after the latest checkpoint: wait for the next"},
    {"SERIAL_NOT_FOUND", kNotFound, "`audit prove`", "no issuance with this serial in the log"},
    {"BAD_SERIAL", kInvalidArgument, "`audit prove`", "the serial is not hex"},
    {"AUDIT_LOG_NOT_FOUND", kNotFound, "`store migrate`", "`--from-sqlite` takes the station's state_dir"},
    {"AUDIT_LOG_IN_USE, STORE_NOT_EMPTY, MOVE_CONFLICT", kFailedPrecondition, "`store migrate`",
     "another process (a running station) has the SQLite file open: stop it first; the store holds a log under that "
     "station id already; the log's history overlaps the fleet's (a CA set's issuer, a profile's line set, a code "
     "batch or lot the fleet has; a key, serial, request id or code in another station's log; a device another "
     "station certified): nothing was moved"},
    {"STORE_READ_ONLY", kFailedPrecondition, "`audit` commands",
     "a command that reads the log tried to change it: a bug; tell the project"},
    {"BAD_RANGE, EXPORT_EMPTY", kInvalidArgument, "`audit export`",
     "`--since-seq` is past the checkpoint / no issuance in the range to export"},
    {"NO_JITR_PROFILE, PROFILE_NOT_JITR, NO_PROVISIONING_PROFILE", kFailedPrecondition, "`audit export`",
     "an allow-list vouches only for profiles marked `[aws] jitr = true` (or, for provisioning, named with "
     "`--profile` or marked `[aws] claim`): mark the profile, or name the right ones"},
    {"THING_NAME_MISSING, BULK_MIXED_THINGS, BULK_PARAMETER_CLASH, BULK_TEMPLATE_TOO_LONG", kFailedPrecondition,
     "`audit export --format aws-bulk`",
     "a record names no thing; records describe things differently (one template per task: split with `--profile` "
     "or `--since-seq`); two thing attributes map to one template parameter; the template exceeds AWS's 10,240 "
     "characters. Nothing was written"},
    {"CA_CERT_NOT_FOUND", kNotFound, "`audit export`, `aws` commands",
     "the issuing CA's certificate is in neither the config nor the store's CA sets: name it with `--ca-cert`"},
    {"FILE_UNWRITABLE", kFailedPrecondition, "`audit export`, `aws` commands",
     "the output file cannot be written (the message has the system's words)"},
    {"OUT_DIR_INVALID", kInvalidArgument, "`aws` commands", "the `--out` directory cannot be created"},
    {"REGISTRATION_CODE_INVALID", kInvalidArgument, "`aws` commands",
     "the AWS registration code is not 1 to 64 letters and digits (`aws iot get-registration-code`)"},
    {"JITP_NEEDS_CN, CLAIM_PROFILE_NOT_FOUND", kFailedPrecondition, "`aws` commands",
     "the device subject has no CN for a JITP template to name the thing by; no claim profile (`[aws] claim = "
     "true`) to set up"},
    {"STORE_CONFLICT", kAborted, "shared store",
     "a batch collided with another station's; the station runs it again by itself (a line never sees it)"},
    {"OPENSSL_ERROR, DIGEST_FAILED, RANDOM_FAILED, RNG_FAILED, KEY_CHECK_FAILED, STORE_MISUSED",
     kInternal, "anywhere",
     "OpenSSL, the random generator or the store failed where it should not (the message has their words): a "
     "station fault; tell the operator"},
});

}  // namespace

std::span<const ReasonRow> ReasonTable() { return kRows; }

std::vector<std::string_view> ReasonNames(const ReasonRow& row) {
  std::vector<std::string_view> names;
  for (std::string_view rest = row.names; !rest.empty();) {
    const size_t comma = rest.find(", ");
    names.push_back(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 2);
  }
  return names;
}

const ReasonRow* FindReason(std::string_view reason) {
  for (const ReasonRow& row : kRows)
    for (std::string_view name : ReasonNames(row))
      if (name == reason) return &row;
  return nullptr;
}

}  // namespace station::base
