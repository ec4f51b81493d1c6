//! The test PKI embedded in `tlsferry_core::testing` for the in-memory `Pair`: checked
//! here against what its scenarios need (validity around the Pair's fixed clock, names,
//! issuers), and regenerated with `TLSFERRY_BLESS=1 cargo test -p tlsferry-tests --test
//! pair_pki` (rcgen, Ed25519 keys: deterministic signatures) when it must change.
//! Nothing here is a secret: these keys exist only for tests.

use std::path::PathBuf;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use time::OffsetDateTime;
use tlsferry_core::testing::pki::{self, TestCertificate};
use tlsferry_core::CertSummary;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../core/src/testing/pki")
}

fn at(unix: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix).unwrap()
}

/// Unix times of the validity windows (the Pair's clock is 2027-01-15).
const Y2020: i64 = 1_577_836_800;
const Y2021: i64 = 1_609_459_200;
const Y2025: i64 = 1_735_689_600;
const Y2035: i64 = 2_051_222_400;
const Y2040: i64 = 2_208_988_800;
const Y2041: i64 = 2_240_611_200;
const Y2045: i64 = 2_366_841_600;

fn dn(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "tlsferry testing Pair");
    dn.push(DnType::CommonName, cn);
    dn
}

fn ed25519() -> KeyPair {
    KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap()
}

fn ca(
    name: &str,
    key: &KeyPair,
    issuer: Option<&Issuer<'_, &KeyPair>>,
) -> (CertificateParams, Vec<u8>) {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name = dn(name);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.not_before = at(Y2025);
    p.not_after = at(Y2045);
    let cert = match issuer {
        Some(i) => p.signed_by(key, i).unwrap(),
        None => p.self_signed(key).unwrap(),
    };
    (p, cert.der().to_vec())
}

fn leaf(names: &[&str], from: i64, to: i64, eku: ExtendedKeyUsagePurpose) -> CertificateParams {
    let mut p =
        CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    p.distinguished_name = dn(names[0]);
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![eku];
    p.not_before = at(from);
    p.not_after = at(to);
    p
}

fn regenerate() {
    let write = |name: &str, der: &[u8]| std::fs::write(dir().join(name), der).unwrap();
    let server = ExtendedKeyUsagePurpose::ServerAuth;
    let names = ["server.test", "127.0.0.1"];

    let root_key = ed25519();
    let (root, root_der) = ca("tlsferry testing root", &root_key, None);
    let root_issuer = Issuer::from_params(&root, &root_key);
    let int_key = ed25519();
    let (int, int_der) = ca(
        "tlsferry testing intermediate",
        &int_key,
        Some(&root_issuer),
    );
    let int_issuer = Issuer::from_params(&int, &int_key);
    let leaf_key = ed25519();
    let sign = |p: CertificateParams, issuer: &Issuer<'_, &KeyPair>| {
        p.signed_by(&leaf_key, issuer).unwrap().der().to_vec()
    };

    write("root.der", &root_der);
    write("intermediate.der", &int_der);
    write("server.key.der", &leaf_key.serialize_der());
    write(
        "valid.der",
        &sign(leaf(&names, Y2025, Y2035, server.clone()), &int_issuer),
    );
    write(
        "expired.der",
        &sign(leaf(&names, Y2020, Y2021, server.clone()), &int_issuer),
    );
    write(
        "not_yet_valid.der",
        &sign(leaf(&names, Y2040, Y2041, server.clone()), &int_issuer),
    );
    write(
        "wrong_host.der",
        &sign(
            leaf(&["other.test"], Y2025, Y2035, server.clone()),
            &int_issuer,
        ),
    );
    write(
        "self_signed.der",
        leaf(&names, Y2025, Y2035, server.clone())
            .self_signed(&leaf_key)
            .unwrap()
            .der(),
    );

    let other_root_key = ed25519();
    let (other_root, _) = ca("an unknown root", &other_root_key, None);
    let other_root_issuer = Issuer::from_params(&other_root, &other_root_key);
    let other_int_key = ed25519();
    let (other_int, other_int_der) = ca(
        "an unknown intermediate",
        &other_int_key,
        Some(&other_root_issuer),
    );
    let other_issuer = Issuer::from_params(&other_int, &other_int_key);
    write("unknown_root_intermediate.der", &other_int_der);
    write(
        "unknown_root.der",
        &sign(leaf(&names, Y2025, Y2035, server), &other_issuer),
    );

    let client_key = ed25519();
    let client = leaf(
        &["client.test"],
        Y2025,
        Y2035,
        ExtendedKeyUsagePurpose::ClientAuth,
    )
    .signed_by(&client_key, &int_issuer)
    .unwrap();
    write("client.der", client.der());
    write("client.key.der", &client_key.serialize_der());
}

#[test]
fn the_embedded_pki_fits_its_scenarios() {
    if std::env::var_os("TLSFERRY_BLESS").is_some() {
        regenerate();
        eprintln!("regenerated {}: rebuild to embed it", dir().display());
        return;
    }
    let clock = pki::CLOCK;
    let summary = |c: TestCertificate| CertSummary::from_der(&c.chain()[0]);
    let valid_at =
        |s: &CertSummary| s.not_before.unwrap() <= clock && clock <= s.not_after.unwrap();
    let root = CertSummary::from_der(&pki::root());
    let intermediate = CertSummary::from_der(&TestCertificate::Valid.chain()[1]);
    assert!(valid_at(&root) && valid_at(&intermediate));
    assert_eq!(intermediate.issuer, root.subject);

    let valid = summary(TestCertificate::Valid);
    assert!(valid_at(&valid));
    assert_eq!(valid.names, [pki::SERVER_NAME, "127.0.0.1"]);
    assert_eq!(valid.issuer, intermediate.subject);
    assert!(summary(TestCertificate::Expired).not_after.unwrap() < clock);
    assert!(summary(TestCertificate::NotYetValid).not_before.unwrap() > clock);
    assert_eq!(summary(TestCertificate::WrongHost).names, ["other.test"]);
    let own = summary(TestCertificate::SelfSigned);
    assert_eq!(own.subject, own.issuer);
    let unknown = TestCertificate::UnknownRoot.chain();
    assert_eq!(unknown.len(), 2);
    assert_ne!(CertSummary::from_der(&unknown[1]).issuer, root.subject);
    assert_eq!(TestCertificate::MissingIntermediate.chain().len(), 1);
    let client = CertSummary::from_der(&pki::client_chain()[0]);
    assert!(valid_at(&client));
    assert_eq!(client.issuer, intermediate.subject);
}
