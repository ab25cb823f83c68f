//! DDS-Security for embody's nodes, the way SROS2 sets it up: a keystore of enclaves
//! ([`keystore`]), an access policy per role ([`policy`]), and the choice, per command, of
//! whether and with which enclave a node joins ([`Security::resolve`]), from `--enclave` and
//! `--keystore` or from the environment ROS 2 reads.
//!
//! Secured nodes authenticate each other by certificate, are allowed only their topics, and
//! their traffic is encrypted (RustDDS's builtin plugins under ros2-client's `security`
//! feature). A node without keys cannot join a secured domain's topics at all.

pub mod keystore;
pub mod policy;

use std::path::PathBuf;

use thiserror::Error;

pub use keystore::{check_enclave, create_enclave, create_keystore, enclave_dir, Validity};
pub use policy::{Role, Rules};

#[derive(Debug, Error)]
pub enum SecurityError {
    #[error(
        "{file}: missing (create it with `embody security keystore` and `embody security key`)"
    )]
    Missing { file: PathBuf },
    #[error("{file}: {why}")]
    Invalid { file: PathBuf, why: String },
    #[error("{file}: the certificate expired on {not_after}; issue a new one with `embody security key`")]
    Expired { file: PathBuf, not_after: String },
    #[error("{dir}: already holds a keystore (its CAs would be lost); use another directory")]
    KeystoreExists { dir: PathBuf },
    #[error("enclave {enclave:?}: an enclave is an absolute path of letters, digits and `_` (like /embody/deploy)")]
    EnclaveName { enclave: String },
    #[error("security is on ({why}) but no keystore is given: pass --keystore DIR or set ROS_SECURITY_KEYSTORE")]
    NoKeystore { why: &'static str },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("OpenSSL failed making {what}: {source}")]
    Openssl {
        what: String,
        source: openssl::error::ErrorStack,
    },
}

/// How a node joins the DDS domain.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Security {
    /// Plain DDS: anyone on the domain reads and commands.
    #[default]
    Off,
    /// Authenticated, access-controlled and encrypted, with the files in `dir`.
    Enclave { enclave: String, dir: PathBuf },
}

/// What a command was asked for on its command line.
#[derive(Clone, Debug, Default)]
pub struct SecurityRequest {
    /// `--enclave`: turns security on, with this enclave.
    pub enclave: Option<String>,
    /// `--keystore` (else `$ROS_SECURITY_KEYSTORE`).
    pub keystore: Option<PathBuf>,
}

/// The outcome of [`Security::resolve`]: the setting, and a warning to print when the node runs
/// without security.
#[derive(Clone, Debug)]
pub struct Resolved {
    pub security: Security,
    pub warning: Option<String>,
}

impl Security {
    /// Decides how a node joins, as ROS 2 does, with `default_enclave` the command's own:
    /// - security is on with `--enclave`, or with `ROS_SECURITY_ENABLE=true`;
    /// - the enclave is `ROS_SECURITY_ENCLAVE_OVERRIDE`, else `--enclave`, else the default;
    /// - the keystore is `--keystore`, else `ROS_SECURITY_KEYSTORE`;
    /// - a missing or invalid file is an error with `ROS_SECURITY_STRATEGY=Enforce` or an
    ///   explicit `--enclave`; otherwise (ROS 2's Permissive) the node runs without security,
    ///   with a warning naming the file.
    ///
    /// `env` reads an environment variable (a parameter, so tests need not touch the process's).
    pub fn resolve(
        req: &SecurityRequest,
        default_enclave: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Resolved, SecurityError> {
        let env_on = env("ROS_SECURITY_ENABLE").as_deref() == Some("true");
        if req.enclave.is_none() && !env_on {
            return Ok(Resolved {
                security: Security::Off,
                warning: Some(
                    "DDS security is off: anyone on this domain may read the robot and command the \
                     arm (see `embody security --help`)"
                        .into(),
                ),
            });
        }
        let enforce =
            req.enclave.is_some() || env("ROS_SECURITY_STRATEGY").as_deref() == Some("Enforce");
        let why = if req.enclave.is_some() {
            "--enclave"
        } else {
            "ROS_SECURITY_ENABLE=true"
        };
        let enclave = env("ROS_SECURITY_ENCLAVE_OVERRIDE")
            .or_else(|| req.enclave.clone())
            .unwrap_or_else(|| default_enclave.to_string());
        let outcome = (|| {
            keystore::check_enclave_name(&enclave)?;
            let keystore = req
                .keystore
                .clone()
                .or_else(|| env("ROS_SECURITY_KEYSTORE").map(PathBuf::from))
                .ok_or(SecurityError::NoKeystore { why })?;
            let dir = enclave_dir(&keystore, &enclave);
            check_enclave(&dir)?;
            Ok(Security::Enclave {
                enclave: enclave.clone(),
                dir,
            })
        })();
        match outcome {
            Ok(security) => Ok(Resolved {
                security,
                warning: None,
            }),
            Err(e) if enforce => Err(e),
            Err(e) => Ok(Resolved {
                security: Security::Off,
                warning: Some(format!(
                    "DDS security requested but not used ({e}); running WITHOUT security because \
                     ROS_SECURITY_STRATEGY is not Enforce: anyone on this domain may command the arm"
                )),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RosConfig;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn off_unless_asked_and_enforce_turns_a_missing_file_into_an_error() {
        let none = SecurityRequest::default();
        let r = Security::resolve(&none, "/embody/deploy", env_of(&[])).unwrap();
        assert_eq!(r.security, Security::Off);
        assert!(r.warning.unwrap().contains("anyone"));

        let missing = std::env::temp_dir().join("embody-no-keystore-here");
        let req = SecurityRequest {
            enclave: None,
            keystore: Some(missing.clone()),
        };
        // Permissive: runs without, says why.
        let r = Security::resolve(
            &req,
            "/embody/deploy",
            env_of(&[("ROS_SECURITY_ENABLE", "true")]),
        )
        .unwrap();
        assert_eq!(r.security, Security::Off);
        let w = r.warning.unwrap();
        assert!(
            w.contains("identity_ca.cert.pem") && w.contains("WITHOUT"),
            "{w}"
        );
        // Enforce: an error naming the file.
        let err = Security::resolve(
            &req,
            "/embody/deploy",
            env_of(&[
                ("ROS_SECURITY_ENABLE", "true"),
                ("ROS_SECURITY_STRATEGY", "Enforce"),
            ]),
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("embody/deploy/identity_ca.cert.pem"),
            "{err}"
        );
        // --enclave alone is explicit: enforced.
        let req = SecurityRequest {
            enclave: Some("/embody/robot".into()),
            keystore: None,
        };
        let err = Security::resolve(&req, "/embody/deploy", env_of(&[])).unwrap_err();
        assert!(matches!(err, SecurityError::NoKeystore { .. }), "{err}");
    }

    #[test]
    fn the_override_wins_and_a_good_enclave_is_used() {
        let ks = std::env::temp_dir().join(format!("embody-ks-resolve-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&ks);
        create_keystore(&ks, Validity::days(30, 0)).unwrap();
        create_enclave(
            &ks,
            "/lab/observer",
            Role::Observer,
            &RosConfig::default(),
            Validity::days(30, 0),
        )
        .unwrap();
        let req = SecurityRequest {
            enclave: Some("/embody/deploy".into()),
            keystore: Some(ks.clone()),
        };
        let r = Security::resolve(
            &req,
            "/embody/deploy",
            env_of(&[("ROS_SECURITY_ENCLAVE_OVERRIDE", "/lab/observer")]),
        )
        .unwrap();
        assert_eq!(
            r.security,
            Security::Enclave {
                enclave: "/lab/observer".into(),
                dir: ks.join("enclaves/lab/observer")
            }
        );
        assert!(r.warning.is_none());
        let _ = std::fs::remove_dir_all(&ks);
    }
}
