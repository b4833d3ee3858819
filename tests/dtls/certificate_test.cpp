// Certificate: generation, SDP fingerprints (RFC 8122 §5) and PEM I/O.
#include "dtls/certificate.hpp"

#include <gtest/gtest.h>
#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cctype>
#include <ctime>
#include <regex>
#include <string>

namespace sfu::dtls {
namespace {

TEST(CertificateFingerprint, FormatIsUppercaseHexPairsJoinedByColons) {
  const Certificate cert = Certificate::generate();
  const std::string fp = cert.fingerprint_sha256();
  // a=fingerprint:sha-256 <32 bytes as "XX:" pairs, no trailing colon>
  EXPECT_EQ(fp.size(), 95u);
  EXPECT_TRUE(std::regex_match(fp, std::regex("([0-9A-F]{2}:){31}[0-9A-F]{2}"))) << fp;
}

TEST(CertificateFingerprint, MatchesSha256OfTheDerCertificate) {
  const Certificate cert = Certificate::generate();
  unsigned char* der = nullptr;
  const int len = i2d_X509(cert.x509(), &der);
  ASSERT_GT(len, 0);
  Fingerprint expected{};
  unsigned int md_len = 0;
  ASSERT_EQ(EVP_Digest(der, size_t(len), expected.data(), &md_len, EVP_sha256(), nullptr), 1);
  OPENSSL_free(der);
  EXPECT_EQ(cert.fingerprint(), expected);
  EXPECT_EQ(Certificate::fingerprint_of(cert.x509()), expected);
}

TEST(CertificateFingerprint, FormatOfKnownBytes) {
  Fingerprint fp{};
  for (size_t i = 0; i < fp.size(); ++i) fp[i] = uint8_t(i * 8 + 0x0A);
  EXPECT_EQ(Certificate::format_fingerprint(fp),
            "0A:12:1A:22:2A:32:3A:42:4A:52:5A:62:6A:72:7A:82:8A:92:9A:A2:AA:B2:BA:C2:CA:D2:DA:E2:EA:F2:FA:02");
}

TEST(CertificateFingerprint, ParseRoundTripsAndAcceptsLowerCase) {
  const Certificate cert = Certificate::generate();
  const std::string upper = cert.fingerprint_sha256();
  std::string lower = upper;
  for (char& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_EQ(Certificate::parse_fingerprint(upper), cert.fingerprint());
  EXPECT_EQ(Certificate::parse_fingerprint(lower), cert.fingerprint());
}

TEST(CertificateFingerprint, ParseRejectsMalformedText) {
  const std::string good = Certificate::generate().fingerprint_sha256();
  EXPECT_FALSE(Certificate::parse_fingerprint(""));
  EXPECT_FALSE(Certificate::parse_fingerprint(good.substr(0, 92)));  // 31 bytes
  EXPECT_FALSE(Certificate::parse_fingerprint(good + ":00"));        // 33 bytes
  EXPECT_FALSE(Certificate::parse_fingerprint("sha-256 " + good));   // attribute prefix
  EXPECT_FALSE(Certificate::parse_fingerprint(good + " "));          // trailing space
  std::string bad = good;
  bad[2] = '-';
  EXPECT_FALSE(Certificate::parse_fingerprint(bad));  // wrong separator
  bad = good;
  bad[0] = 'G';
  EXPECT_FALSE(Certificate::parse_fingerprint(bad));  // not hex
  std::string no_colons;
  for (char c : good)
    if (c != ':') no_colons.push_back(c);
  EXPECT_FALSE(Certificate::parse_fingerprint(no_colons + std::string(31, '0')));  // right length, no colons
}

TEST(CertificateGenerate, IsSelfSignedEcdsaP256WithRandomSerialAndShortValidity) {
  const Certificate a = Certificate::generate("unit-test");
  const Certificate b = Certificate::generate("unit-test");
  EXPECT_NE(a.fingerprint(), b.fingerprint());

  EVP_PKEY* key = X509_get0_pubkey(a.x509());
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(EVP_PKEY_get_base_id(key), EVP_PKEY_EC);
  EXPECT_EQ(EVP_PKEY_get_bits(key), 256);
  EXPECT_EQ(X509_verify(a.x509(), key), 1);  // signed by its own key
  EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(a.x509()), X509_get_issuer_name(a.x509())), 0);

  char cn[64] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(a.x509()), NID_commonName, cn, sizeof(cn));
  EXPECT_STREQ(cn, "unit-test");

  BIGNUM* serial_a = ASN1_INTEGER_to_BN(X509_get0_serialNumber(a.x509()), nullptr);
  BIGNUM* serial_b = ASN1_INTEGER_to_BN(X509_get0_serialNumber(b.x509()), nullptr);
  EXPECT_GE(BN_num_bits(serial_a), 64);
  EXPECT_FALSE(BN_is_negative(serial_a));
  EXPECT_NE(BN_cmp(serial_a, serial_b), 0);
  BN_free(serial_a);
  BN_free(serial_b);

  // Valid from about a day ago to about 30 days ahead.
  const time_t now = time(nullptr);
  int days = 0, secs = 0;
  ASN1_TIME* now_asn1 = ASN1_TIME_set(nullptr, now);
  ASSERT_EQ(ASN1_TIME_diff(&days, &secs, now_asn1, X509_get0_notBefore(a.x509())), 1);
  EXPECT_EQ(days, -1);
  ASSERT_EQ(ASN1_TIME_diff(&days, &secs, now_asn1, X509_get0_notAfter(a.x509())), 1);
  EXPECT_TRUE(days == 29 || days == 30) << days;
  ASN1_TIME_free(now_asn1);
}

TEST(CertificatePem, LoadRoundTripKeepsFingerprintAndKey) {
  const Certificate original = Certificate::generate();
  const std::string cert_pem = original.certificate_pem();
  const std::string key_pem = original.private_key_pem();
  EXPECT_NE(cert_pem.find("-----BEGIN CERTIFICATE-----"), std::string::npos);
  EXPECT_NE(key_pem.find("-----BEGIN PRIVATE KEY-----"), std::string::npos);

  auto loaded = Certificate::load_pem(cert_pem, key_pem);
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  EXPECT_EQ(loaded->fingerprint(), original.fingerprint());
  EXPECT_EQ(loaded->fingerprint_sha256(), original.fingerprint_sha256());
  EXPECT_EQ(EVP_PKEY_eq(loaded->private_key(), original.private_key()), 1);
  EXPECT_EQ(loaded->certificate_pem(), cert_pem);
}

TEST(CertificatePem, LoadRefusesAKeyOfAnotherCertificate) {
  const Certificate a = Certificate::generate();
  const Certificate b = Certificate::generate();
  auto loaded = Certificate::load_pem(a.certificate_pem(), b.private_key_pem());
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().find("does not match"), std::string::npos) << loaded.error();
}

TEST(CertificatePem, LoadRefusesGarbage) {
  const Certificate a = Certificate::generate();
  EXPECT_FALSE(Certificate::load_pem("", a.private_key_pem()).ok());
  EXPECT_FALSE(Certificate::load_pem(a.certificate_pem(), "").ok());
  EXPECT_FALSE(
      Certificate::load_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", a.private_key_pem())
          .ok());
  EXPECT_FALSE(Certificate::load_pem(a.private_key_pem(), a.certificate_pem()).ok());  // swapped
}

TEST(CertificatePem, MovedCertificateKeepsItsHandles) {
  Certificate a = Certificate::generate();
  const Fingerprint fp = a.fingerprint();
  Certificate b = std::move(a);
  EXPECT_EQ(b.fingerprint(), fp);
  EXPECT_EQ(Certificate::fingerprint_of(b.x509()), fp);
}

}  // namespace
}  // namespace sfu::dtls
