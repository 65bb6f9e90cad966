#include "station/audit/merkle.h"

#include "station/base/ossl.h"

#include <openssl/evp.h>

#include <bit>
#include <cstring>

namespace station::audit {
namespace {

// The largest power of two smaller than n (n >= 2).
uint64_t SplitPoint(uint64_t n) { return std::bit_floor(n - 1); }

void SubProof(std::span<const Hash> leaves, uint64_t m, bool whole, std::vector<Hash>& out) {
  const uint64_t n = leaves.size();
  if (m == n) {
    if (!whole) out.push_back(RootOf(leaves));
    return;
  }
  const uint64_t k = SplitPoint(n);
  if (m <= k) {
    SubProof(leaves.first(k), m, whole, out);
    out.push_back(RootOf(leaves.subspan(k)));
  } else {
    SubProof(leaves.subspan(k), m - k, false, out);
    out.push_back(RootOf(leaves.first(k)));
  }
}

}  // namespace

Hash LeafHash(std::string_view data) {
  Hash out;
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  const uint8_t prefix = 0x00;
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), &prefix, 1) != 1 || EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), out.data(), nullptr) != 1)
    out.fill(0);  // unreachable short of memory exhaustion; never matches a real hash
  return out;
}

Hash NodeHash(const Hash& left, const Hash& right) {
  uint8_t buf[65];
  buf[0] = 0x01;
  std::memcpy(buf + 1, left.data(), 32);
  std::memcpy(buf + 33, right.data(), 32);
  Bytes digest = Sha256(buf, sizeof buf);
  Hash out;
  std::memcpy(out.data(), digest.data(), out.size());
  return out;
}

Hash EmptyTreeHash() {
  Bytes digest = Sha256(nullptr, 0);
  Hash out;
  std::memcpy(out.data(), digest.data(), out.size());
  return out;
}

std::string HashHex(const Hash& h) { return Hex(h.data(), h.size()); }

void CompactRange::Append(const Hash& leaf) {
  Hash carry = leaf;
  // Each trailing 1 bit of the old size is a subtree of the new leaf's size: merge.
  for (uint64_t s = size_; s & 1; s >>= 1) {
    carry = NodeHash(nodes_.back(), carry);
    nodes_.pop_back();
  }
  nodes_.push_back(carry);
  ++size_;
}

Hash CompactRange::Root() const {
  if (nodes_.empty()) return EmptyTreeHash();
  Hash root = nodes_.back();
  for (size_t i = nodes_.size() - 1; i-- > 0;) root = NodeHash(nodes_[i], root);
  return root;
}

std::string CompactRange::Serialize() const {
  std::string out;
  for (const Hash& h : nodes_) out.append(reinterpret_cast<const char*>(h.data()), h.size());
  return out;
}

Result<CompactRange> CompactRange::Parse(uint64_t size, std::string_view nodes) {
  if (nodes.size() != static_cast<size_t>(std::popcount(size)) * 32)
    return MakeError(Code::kDataLoss, "AUDIT_LOG_BROKEN",
                     "stored tree edge for size " + std::to_string(size) + " has the wrong length");
  CompactRange out;
  out.size_ = size;
  for (size_t i = 0; i < nodes.size(); i += 32) {
    Hash h;
    std::memcpy(h.data(), nodes.data() + i, 32);
    out.nodes_.push_back(h);
  }
  return out;
}

Hash RootOf(std::span<const Hash> leaves) {
  if (leaves.empty()) return EmptyTreeHash();
  // Bottom-up over the compact range: O(n) hashes, no recursion depth issues.
  CompactRange range;
  for (const Hash& leaf : leaves) range.Append(leaf);
  return range.Root();
}

std::vector<Hash> InclusionProof(std::span<const Hash> leaves, uint64_t index) {
  std::vector<Hash> path;
  while (leaves.size() > 1) {
    const uint64_t k = SplitPoint(leaves.size());
    if (index < k) {
      path.push_back(RootOf(leaves.subspan(k)));
      leaves = leaves.first(k);
    } else {
      path.push_back(RootOf(leaves.first(k)));
      leaves = leaves.subspan(k);
      index -= k;
    }
  }
  // Collected top-down; the proof lists siblings from the leaf up.
  return std::vector<Hash>(path.rbegin(), path.rend());
}

std::vector<Hash> ConsistencyProof(std::span<const Hash> leaves, uint64_t old_size) {
  std::vector<Hash> out;
  if (old_size == 0 || old_size >= leaves.size()) return out;
  SubProof(leaves, old_size, true, out);
  return out;
}

bool VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf, std::span<const Hash> proof, const Hash& root) {
  if (index >= size) return false;
  uint64_t fn = index, sn = size - 1;
  Hash r = leaf;
  for (const Hash& p : proof) {
    if (sn == 0) return false;
    if ((fn & 1) || fn == sn) {
      r = NodeHash(p, r);
      while (!(fn & 1) && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root;
}

bool VerifyConsistency(uint64_t old_size, uint64_t new_size, const Hash& old_root, const Hash& new_root,
                       std::span<const Hash> proof) {
  if (old_size > new_size) return false;
  if (old_size == 0) return proof.empty();
  if (old_size == new_size) return proof.empty() && old_root == new_root;
  if (proof.empty()) return false;
  std::vector<Hash> path;
  if (std::has_single_bit(old_size)) path.push_back(old_root);
  path.insert(path.end(), proof.begin(), proof.end());
  uint64_t fn = old_size - 1, sn = new_size - 1;
  while (fn & 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = path[0], sr = path[0];
  for (size_t i = 1; i < path.size(); ++i) {
    const Hash& c = path[i];
    if (sn == 0) return false;
    if ((fn & 1) || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      while (!(fn & 1) && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return fr == old_root && sr == new_root && sn == 0;
}

}  // namespace station::audit
