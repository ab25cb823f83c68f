//! An SROS2-layout keystore made with OpenSSL (the `openssl` crate, the library RustDDS's
//! security plugins already link): two CAs, a signed domain governance, and per-enclave keys,
//! certificates and signed permissions. Also the checks a node runs on its enclave before it
//! joins, so that a bad file is named rather than reported as a failed DDS participant.
//!
//! ```text
//! DIR/public/{identity_ca,permissions_ca}.cert.pem
//! DIR/private/{identity_ca,permissions_ca}.key.pem          (0600)
//! DIR/enclaves/governance.{xml,p7s}
//! DIR/enclaves/<enclave>/{cert.pem, key.pem (0600), identity_ca.cert.pem,
//!                         permissions_ca.cert.pem, governance.p7s, permissions.{xml,p7s}}
//! ```

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use openssl::asn1::{Asn1Integer, Asn1Time};
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkcs7::{Pkcs7, Pkcs7Flags};
use openssl::pkey::{PKey, Private};
use openssl::stack::Stack;
use openssl::x509::extension::{BasicConstraints, KeyUsage};
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::{X509Builder, X509NameBuilder, X509};

use super::policy::{governance_xml, permissions_xml, Role, Rules};
use super::SecurityError;
use crate::RosConfig;

/// The files a node needs in its enclave directory (ROS 2's names).
pub const ENCLAVE_FILES: [&str; 6] = [
    "identity_ca.cert.pem",
    "cert.pem",
    "key.pem",
    "permissions_ca.cert.pem",
    "governance.p7s",
    "permissions.p7s",
];

const DAY_S: i64 = 86_400;

/// How long what `embody security` signs stays valid.
#[derive(Clone, Copy, Debug)]
pub struct Validity {
    /// Start, seconds since the Unix epoch (UTC).
    pub not_before_unix_s: i64,
    /// End, seconds since the Unix epoch (UTC).
    pub not_after_unix_s: i64,
}

impl Validity {
    /// From now for `days` days. `backdate_days` moves both ends into the past (tests make
    /// expired certificates with it).
    pub fn days(days: u32, backdate_days: u32) -> Validity {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let start = now - i64::from(backdate_days) * DAY_S - 60;
        Validity {
            not_before_unix_s: start,
            not_after_unix_s: start + i64::from(days) * DAY_S,
        }
    }

    fn iso(unix_s: i64) -> String {
        chrono::DateTime::from_timestamp(unix_s, 0)
            .map(|t| t.format("%Y-%m-%dT%H:%M:%S").to_string())
            .unwrap_or_else(|| "1970-01-01T00:00:00".into())
    }
}

fn ssl(what: impl Into<String>) -> impl FnOnce(openssl::error::ErrorStack) -> SecurityError {
    let what = what.into();
    move |source| SecurityError::Openssl { what, source }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SecurityError + '_ {
    move |source| SecurityError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn write(path: &Path, bytes: &[u8], secret: bool) -> Result<(), SecurityError> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(io(dir))?;
    }
    fs::write(path, bytes).map_err(io(path))?;
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o600)).map_err(io(path))?;
    }
    #[cfg(not(unix))]
    let _ = secret;
    Ok(())
}

fn read(path: &Path) -> Result<Vec<u8>, SecurityError> {
    if !path.exists() {
        return Err(SecurityError::Missing {
            file: path.to_path_buf(),
        });
    }
    fs::read(path).map_err(io(path))
}

/// A P-256 key: DDS-Security's ECDSA-SHA256 and what RustDDS and SROS2 use.
fn new_key() -> Result<PKey<Private>, SecurityError> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).map_err(ssl("P-256 group"))?;
    let key = EcKey::generate(&group).map_err(ssl("a P-256 key"))?;
    PKey::from_ec_key(key).map_err(ssl("a P-256 key"))
}

fn certificate(
    subject_cn: &str,
    key: &PKey<Private>,
    issuer: Option<(&X509, &PKey<Private>)>,
    validity: Validity,
) -> Result<X509, SecurityError> {
    let what = format!("the certificate of {subject_cn}");
    let mut name = X509NameBuilder::new().map_err(ssl(&what))?;
    name.append_entry_by_text("CN", subject_cn)
        .map_err(ssl(&what))?;
    let name = name.build();
    let mut b = X509Builder::new().map_err(ssl(&what))?;
    b.set_version(2).map_err(ssl(&what))?;
    let mut serial = BigNum::new().map_err(ssl(&what))?;
    serial
        .rand(127, MsbOption::MAYBE_ZERO, false)
        .map_err(ssl(&what))?;
    let serial: Asn1Integer = serial.to_asn1_integer().map_err(ssl(&what))?;
    b.set_serial_number(&serial).map_err(ssl(&what))?;
    b.set_subject_name(&name).map_err(ssl(&what))?;
    b.set_pubkey(key).map_err(ssl(&what))?;
    let nb = Asn1Time::from_unix(validity.not_before_unix_s).map_err(ssl(&what))?;
    let na = Asn1Time::from_unix(validity.not_after_unix_s).map_err(ssl(&what))?;
    b.set_not_before(&nb).map_err(ssl(&what))?;
    b.set_not_after(&na).map_err(ssl(&what))?;
    // A CA is self-signed and may sign certificates; an enclave's certificate is signed by
    // the identity CA and used for signatures and key agreement.
    let (issuer_name, signing_key) = match issuer {
        None => (name.as_ref(), key),
        Some((ca, ca_key)) => (ca.subject_name(), ca_key),
    };
    let is_ca = issuer.is_none();
    b.set_issuer_name(issuer_name).map_err(ssl(&what))?;
    let mut bc = BasicConstraints::new();
    bc.critical();
    let mut ku = KeyUsage::new();
    ku.critical().digital_signature();
    if is_ca {
        bc.ca();
        ku.key_cert_sign().crl_sign();
    } else {
        ku.key_agreement();
    }
    b.append_extension(bc.build().map_err(ssl(&what))?)
        .map_err(ssl(&what))?;
    b.append_extension(ku.build().map_err(ssl(&what))?)
        .map_err(ssl(&what))?;
    b.sign(signing_key, MessageDigest::sha256())
        .map_err(ssl(&what))?;
    Ok(b.build())
}

/// `document` signed by `signer` as S/MIME multipart/signed with the text header, what
/// `openssl smime -sign -text` writes and what DDS-Security specifies.
fn smime_sign(
    document: &[u8],
    signer: &X509,
    key: &PKey<Private>,
    what: &str,
) -> Result<Vec<u8>, SecurityError> {
    let flags = Pkcs7Flags::DETACHED | Pkcs7Flags::TEXT;
    let certs = Stack::new().map_err(ssl(what))?;
    let p7 = Pkcs7::sign(signer, key, &certs, document, flags).map_err(ssl(what))?;
    p7.to_smime(document, flags).map_err(ssl(what))
}

struct Paths {
    root: PathBuf,
}

impl Paths {
    fn identity_ca_cert(&self) -> PathBuf {
        self.root.join("public/identity_ca.cert.pem")
    }
    fn permissions_ca_cert(&self) -> PathBuf {
        self.root.join("public/permissions_ca.cert.pem")
    }
    fn identity_ca_key(&self) -> PathBuf {
        self.root.join("private/identity_ca.key.pem")
    }
    fn permissions_ca_key(&self) -> PathBuf {
        self.root.join("private/permissions_ca.key.pem")
    }
    fn governance(&self, ext: &str) -> PathBuf {
        self.root.join(format!("enclaves/governance.{ext}"))
    }
}

/// Where an enclave's files are in the keystore at `keystore`.
pub fn enclave_dir(keystore: &Path, enclave: &str) -> PathBuf {
    keystore
        .join("enclaves")
        .join(enclave.trim_start_matches('/'))
}

/// Checks an enclave name the way ROS 2 names them: `/`-separated, absolute, of letters,
/// digits and `_`.
pub fn check_enclave_name(enclave: &str) -> Result<(), SecurityError> {
    let ok = enclave.starts_with('/')
        && enclave.len() > 1
        && enclave[1..].split('/').all(|part| {
            !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
    if ok {
        Ok(())
    } else {
        Err(SecurityError::EnclaveName {
            enclave: enclave.to_string(),
        })
    }
}

/// Creates a keystore: an identity CA, a permissions CA and the signed governance. Refuses a
/// directory that already holds a keystore (its CAs would be lost).
pub fn create_keystore(dir: &Path, validity: Validity) -> Result<(), SecurityError> {
    let p = Paths {
        root: dir.to_path_buf(),
    };
    if p.identity_ca_key().exists() || p.permissions_ca_key().exists() {
        return Err(SecurityError::KeystoreExists {
            dir: dir.to_path_buf(),
        });
    }
    let id_key = new_key()?;
    let id_ca = certificate("embody identity CA", &id_key, None, validity)?;
    let perm_key = new_key()?;
    let perm_ca = certificate("embody permissions CA", &perm_key, None, validity)?;
    let pem = |k: &PKey<Private>| k.private_key_to_pem_pkcs8().map_err(ssl("a CA key"));
    let cert_pem = |c: &X509| c.to_pem().map_err(ssl("a CA certificate"));
    write(&p.identity_ca_key(), &pem(&id_key)?, true)?;
    write(&p.permissions_ca_key(), &pem(&perm_key)?, true)?;
    write(&p.identity_ca_cert(), &cert_pem(&id_ca)?, false)?;
    write(&p.permissions_ca_cert(), &cert_pem(&perm_ca)?, false)?;
    let gov = governance_xml();
    write(&p.governance("xml"), gov.as_bytes(), false)?;
    let signed = smime_sign(gov.as_bytes(), &perm_ca, &perm_key, "the governance")?;
    write(&p.governance("p7s"), &signed, false)?;
    Ok(())
}

/// What `create_enclave` wrote.
#[derive(Debug)]
pub struct EnclaveCreated {
    pub dir: PathBuf,
    pub role: Role,
    pub rules: Rules,
}

/// Creates (or re-issues) an enclave's key, certificate and permissions for `role`, with the
/// topic names of `cfg`.
pub fn create_enclave(
    keystore: &Path,
    enclave: &str,
    role: Role,
    cfg: &RosConfig,
    validity: Validity,
) -> Result<EnclaveCreated, SecurityError> {
    check_enclave_name(enclave)?;
    let p = Paths {
        root: keystore.to_path_buf(),
    };
    let load_cert = |path: &Path| -> Result<X509, SecurityError> {
        X509::from_pem(&read(path)?).map_err(|e| SecurityError::Invalid {
            file: path.to_path_buf(),
            why: format!("not a PEM certificate ({e})"),
        })
    };
    let load_key = |path: &Path| -> Result<PKey<Private>, SecurityError> {
        PKey::private_key_from_pem(&read(path)?).map_err(|e| SecurityError::Invalid {
            file: path.to_path_buf(),
            why: format!("not a PEM private key ({e})"),
        })
    };
    let id_ca = load_cert(&p.identity_ca_cert())?;
    let id_key = load_key(&p.identity_ca_key())?;
    let perm_ca = load_cert(&p.permissions_ca_cert())?;
    let perm_key = load_key(&p.permissions_ca_key())?;
    let governance = read(&p.governance("p7s"))?;

    let dir = enclave_dir(keystore, enclave);
    let key = new_key()?;
    let subject = format!("CN={enclave}");
    let cert = certificate(enclave, &key, Some((&id_ca, &id_key)), validity)?;
    let rules = Rules::for_role(role, cfg);
    let perms = permissions_xml(
        enclave,
        &subject,
        &Validity::iso(validity.not_before_unix_s),
        &Validity::iso(validity.not_after_unix_s),
        &rules,
    );
    let signed = smime_sign(perms.as_bytes(), &perm_ca, &perm_key, "the permissions")?;
    let key_pem = key
        .private_key_to_pem_pkcs8()
        .map_err(ssl("the enclave key"))?;
    write(&dir.join("key.pem"), &key_pem, true)?;
    write(
        &dir.join("cert.pem"),
        &cert.to_pem().map_err(ssl("the enclave certificate"))?,
        false,
    )?;
    write(
        &dir.join("identity_ca.cert.pem"),
        &read(&p.identity_ca_cert())?,
        false,
    )?;
    write(
        &dir.join("permissions_ca.cert.pem"),
        &read(&p.permissions_ca_cert())?,
        false,
    )?;
    write(&dir.join("governance.p7s"), &governance, false)?;
    write(&dir.join("permissions.xml"), perms.as_bytes(), false)?;
    write(&dir.join("permissions.p7s"), &signed, false)?;
    Ok(EnclaveCreated { dir, role, rules })
}

/// What a node learns from checking its enclave.
#[derive(Debug, Clone)]
pub struct EnclaveCheck {
    pub subject: String,
    /// The certificate's end of validity, as OpenSSL prints it.
    pub not_after: String,
}

/// Checks an enclave before a node joins with it: every file there, the certificate issued by
/// the identity CA, in its validity period and matching the key, the governance and the
/// permissions signed by the permissions CA. Each failure names its file.
pub fn check_enclave(dir: &Path) -> Result<EnclaveCheck, SecurityError> {
    for f in ENCLAVE_FILES {
        let path = dir.join(f);
        if !path.is_file() {
            return Err(SecurityError::Missing { file: path });
        }
    }
    let invalid = |f: &str, why: String| SecurityError::Invalid {
        file: dir.join(f),
        why,
    };
    let cert_at = |f: &str| {
        X509::from_pem(&read(&dir.join(f))?)
            .map_err(|e| invalid(f, format!("not a PEM certificate ({e})")))
    };
    let id_ca = cert_at("identity_ca.cert.pem")?;
    let perm_ca = cert_at("permissions_ca.cert.pem")?;
    let cert = cert_at("cert.pem")?;
    let key = PKey::private_key_from_pem(&read(&dir.join("key.pem"))?)
        .map_err(|e| invalid("key.pem", format!("not a PEM private key ({e})")))?;
    let ca_key = id_ca
        .public_key()
        .map_err(|e| invalid("identity_ca.cert.pem", format!("no public key ({e})")))?;
    if !cert.verify(&ca_key).unwrap_or(false) {
        return Err(invalid(
            "cert.pem",
            "not issued by identity_ca.cert.pem".into(),
        ));
    }
    let cert_key = cert
        .public_key()
        .map_err(|e| invalid("cert.pem", format!("no public key ({e})")))?;
    if !cert_key.public_eq(&key) {
        return Err(invalid("key.pem", "does not belong to cert.pem".into()));
    }
    let now = Asn1Time::days_from_now(0).map_err(ssl("the time"))?;
    if cert.not_after() < now {
        return Err(SecurityError::Expired {
            file: dir.join("cert.pem"),
            not_after: cert.not_after().to_string(),
        });
    }
    if cert.not_before() > now {
        return Err(invalid(
            "cert.pem",
            format!("not valid before {}", cert.not_before()),
        ));
    }
    let mut store = X509StoreBuilder::new().map_err(ssl("a certificate store"))?;
    store
        .add_cert(perm_ca.clone())
        .map_err(ssl("a certificate store"))?;
    let store = store.build();
    for f in ["governance.p7s", "permissions.p7s"] {
        let bytes = read(&dir.join(f))?;
        let (p7, content) = Pkcs7::from_smime(&bytes)
            .map_err(|e| invalid(f, format!("not an S/MIME signed document ({e})")))?;
        let mut certs = Stack::new().map_err(ssl("a certificate stack"))?;
        certs
            .push(perm_ca.clone())
            .map_err(ssl("a certificate stack"))?;
        p7.verify(&certs, &store, content.as_deref(), None, Pkcs7Flags::TEXT)
            .map_err(|e| invalid(f, format!("not signed by permissions_ca.cert.pem ({e})")))?;
    }
    let subject = cert
        .subject_name()
        .entries_by_nid(Nid::COMMONNAME)
        .next()
        .and_then(|e| e.data().to_string().ok())
        .unwrap_or_default();
    Ok(EnclaveCheck {
        subject,
        not_after: cert.not_after().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("embody-ks-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn a_new_enclave_passes_its_check_and_tampering_is_named() {
        let ks = temp("ok");
        create_keystore(&ks, Validity::days(30, 0)).unwrap();
        assert!(matches!(
            create_keystore(&ks, Validity::days(30, 0)),
            Err(SecurityError::KeystoreExists { .. })
        ));
        let cfg = RosConfig::default();
        let enclave = |name: &str, role: Role| {
            create_enclave(&ks, name, role, &cfg, Validity::days(30, 0)).unwrap()
        };
        let e = enclave("/embody/deploy", Role::Deploy);
        let check = check_enclave(&e.dir).unwrap();
        assert_eq!(check.subject, "/embody/deploy");

        // Permissions edited after signing.
        let p = e.dir.join("permissions.p7s");
        let signed = fs::read_to_string(&p).unwrap();
        fs::write(&p, signed.replace("joint_trajectory", "joint_trajectorx")).unwrap();
        let err = check_enclave(&e.dir).unwrap_err();
        assert!(err.to_string().contains("permissions.p7s"), "{err}");

        // A key from another enclave.
        let other = enclave("/embody/robot", Role::Robot);
        enclave("/embody/deploy", Role::Deploy);
        fs::copy(other.dir.join("key.pem"), e.dir.join("key.pem")).unwrap();
        let err = check_enclave(&e.dir).unwrap_err();
        assert!(err.to_string().contains("key.pem"), "{err}");

        // A file gone.
        fs::remove_file(e.dir.join("governance.p7s")).unwrap();
        assert!(matches!(
            check_enclave(&e.dir),
            Err(SecurityError::Missing { file }) if file.ends_with("governance.p7s")
        ));
        let _ = fs::remove_dir_all(&ks);
    }

    #[test]
    fn an_expired_certificate_is_refused_before_joining() {
        let ks = temp("expired");
        create_keystore(&ks, Validity::days(30, 10)).unwrap();
        let e = create_enclave(
            &ks,
            "/embody/deploy",
            Role::Deploy,
            &RosConfig::default(),
            Validity::days(1, 3),
        )
        .unwrap();
        let err = check_enclave(&e.dir).unwrap_err();
        assert!(matches!(err, SecurityError::Expired { .. }), "{err}");
        assert!(err.to_string().contains("cert.pem"), "{err}");
        let _ = fs::remove_dir_all(&ks);
    }

    #[test]
    fn enclave_names_follow_ros() {
        for ok in ["/embody/deploy", "/a", "/lab_1/arm2/robot"] {
            check_enclave_name(ok).unwrap();
        }
        for bad in ["", "/", "embody", "/a//b", "/a/../b", "/a b", "/a/"] {
            assert!(check_enclave_name(bad).is_err(), "{bad:?}");
        }
    }
}
