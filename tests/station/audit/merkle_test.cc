// RFC 6962 hashing, proofs and their verification, against the Certificate
// Transparency test vectors and a naive recursive definition.
#include "station/audit/merkle.h"

#include <gtest/gtest.h>

namespace station::audit {
namespace {

// The test leaves of RFC 6962's reference implementation (certificate-transparency).
std::vector<std::string> CtLeaves() {
  return {"",
          std::string("\x00", 1),
          "\x10",
          "\x20\x21",
          "\x30\x31",
          "\x40\x41\x42\x43",
          "\x50\x51\x52\x53\x54\x55\x56\x57",
          "\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f"};
}

std::vector<Hash> Leaves(size_t n) {
  std::vector<Hash> out;
  for (size_t i = 0; i < n; ++i) out.push_back(LeafHash("leaf " + std::to_string(i)));
  return out;
}

// MTH straight from RFC 6962 2.1, recursively.
Hash NaiveRoot(std::span<const Hash> d) {
  if (d.empty()) return EmptyTreeHash();
  if (d.size() == 1) return d[0];
  size_t k = 1;
  while (k * 2 < d.size()) k *= 2;
  return NodeHash(NaiveRoot(d.first(k)), NaiveRoot(d.subspan(k)));
}

TEST(MerkleTest, MatchesTheCertificateTransparencyTestVectors) {
  const char* roots[] = {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                         "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
                         "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
                         "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                         "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
                         "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
                         "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
                         "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};
  EXPECT_EQ(HashHex(EmptyTreeHash()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  std::vector<Hash> leaves;
  CompactRange range;
  for (size_t i = 0; i < CtLeaves().size(); ++i) {
    leaves.push_back(LeafHash(CtLeaves()[i]));
    range.Append(leaves.back());
    EXPECT_EQ(HashHex(RootOf(leaves)), roots[i]) << "size " << i + 1;
    EXPECT_EQ(HashHex(range.Root()), roots[i]) << "size " << i + 1;
  }
}

TEST(MerkleTest, CompactRangeRoundTripsAndAgreesWithTheDefinition) {
  auto leaves = Leaves(70);
  CompactRange range;
  for (size_t n = 1; n <= leaves.size(); ++n) {
    range.Append(leaves[n - 1]);
    ASSERT_EQ(range.Root(), NaiveRoot(std::span(leaves).first(n))) << n;
    auto parsed = CompactRange::Parse(range.size(), range.Serialize());
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(parsed->Root(), range.Root());
  }
  EXPECT_FALSE(CompactRange::Parse(7, std::string(64, 'x')).ok()) << "size 7 needs three nodes";
}

TEST(MerkleTest, InclusionProofsVerifyAndTamperedOnesDoNot) {
  auto all = Leaves(33);
  for (size_t n = 1; n <= all.size(); ++n) {
    auto leaves = std::span(all).first(n);
    Hash root = RootOf(leaves);
    for (size_t i = 0; i < n; ++i) {
      auto proof = InclusionProof(leaves, i);
      ASSERT_TRUE(VerifyInclusion(i, n, leaves[i], proof, root)) << i << "/" << n;
      EXPECT_FALSE(VerifyInclusion(i, n, LeafHash("forged"), proof, root));
      if (n > 1) {
        EXPECT_FALSE(VerifyInclusion((i + 1) % n, n, leaves[i], proof, root)) << i << "/" << n;
      }
      if (!proof.empty()) {
        auto bad = proof;
        bad[0][0] ^= 1;
        EXPECT_FALSE(VerifyInclusion(i, n, leaves[i], bad, root));
      }
    }
  }
}

TEST(MerkleTest, ConsistencyProofsVerifyAndDetectARewrittenPrefix) {
  auto all = Leaves(33);
  for (size_t n = 1; n <= all.size(); ++n) {
    auto leaves = std::span(all).first(n);
    Hash root = RootOf(leaves);
    for (size_t m = 1; m <= n; ++m) {
      Hash old_root = RootOf(leaves.first(m));
      auto proof = ConsistencyProof(leaves, m);
      ASSERT_TRUE(VerifyConsistency(m, n, old_root, root, proof)) << m << "->" << n;
      // A log that rewrote one of the first m leaves cannot prove consistency.
      auto forged = std::vector<Hash>(leaves.begin(), leaves.end());
      forged[m - 1] = LeafHash("rewritten");
      EXPECT_FALSE(VerifyConsistency(m, n, old_root, RootOf(forged), ConsistencyProof(forged, m))) << m << "->" << n;
    }
  }
  EXPECT_TRUE(VerifyConsistency(0, 5, EmptyTreeHash(), RootOf(std::span(all).first(5)), {}));
  EXPECT_FALSE(VerifyConsistency(6, 5, EmptyTreeHash(), EmptyTreeHash(), {}));
}

}  // namespace
}  // namespace station::audit
