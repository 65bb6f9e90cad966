// The Merkle tree over the audit log, hashed exactly as RFC 6962 / RFC 9162
// (Certificate Transparency) define it: leaf = SHA-256(0x00 || data),
// node = SHA-256(0x01 || left || right), the empty tree = SHA-256("").
//
// The writer keeps only the tree's right edge (CompactRange, O(log n)
// hashes); proofs and full verification work from the list of leaf hashes.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "station/base/error.h"

namespace station::audit {

using Hash = std::array<uint8_t, 32>;

Hash LeafHash(std::string_view data);
Hash NodeHash(const Hash& left, const Hash& right);
Hash EmptyTreeHash();
std::string HashHex(const Hash& h);

// The roots of the perfect subtrees that make up a tree of `size` leaves,
// largest first: enough to append leaves and compute the root.
class CompactRange {
 public:
  void Append(const Hash& leaf);
  uint64_t size() const noexcept { return size_; }
  Hash Root() const;

  // The node hashes, concatenated (popcount(size) * 32 bytes).
  std::string Serialize() const;
  static Result<CompactRange> Parse(uint64_t size, std::string_view nodes);

 private:
  uint64_t size_ = 0;
  std::vector<Hash> nodes_;
};

// MTH(leaves), RFC 9162 2.1.1.
Hash RootOf(std::span<const Hash> leaves);

// The audit path of leaf `index` in the tree of all `leaves` (RFC 9162 2.1.3.1).
std::vector<Hash> InclusionProof(std::span<const Hash> leaves, uint64_t index);

// The proof that the tree of the first `old_size` leaves is a prefix of the
// tree of all `leaves` (RFC 9162 2.1.4.1). 0 < old_size <= leaves.size().
std::vector<Hash> ConsistencyProof(std::span<const Hash> leaves, uint64_t old_size);

// RFC 9162 2.1.3.2.
bool VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf, std::span<const Hash> proof, const Hash& root);

// RFC 9162 2.1.4.2. A tree of size 0 is consistent with anything (empty proof).
bool VerifyConsistency(uint64_t old_size, uint64_t new_size, const Hash& old_root, const Hash& new_root,
                       std::span<const Hash> proof);

}  // namespace station::audit
