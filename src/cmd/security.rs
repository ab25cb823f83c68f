//! `embody security`: the keystore and enclaves (SROS2's layout), and the `--enclave` and
//! `--keystore` options the ROS 2 commands share.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use embody_ros::security::{self, Role, Security, SecurityRequest, Validity};

/// How a ROS 2 command joins the DDS domain.
#[derive(Args, Clone, Debug, Default)]
pub struct SecurityArgs {
    /// DDS-Security: join with this enclave of the keystore (like /embody/deploy). Without it,
    /// `ROS_SECURITY_ENABLE=true` turns security on with the command's own enclave or
    /// `ROS_SECURITY_ENCLAVE_OVERRIDE`; `ROS_SECURITY_STRATEGY=Enforce` makes a missing or
    /// invalid key an error.
    #[arg(long)]
    pub enclave: Option<String>,
    /// The keystore (`embody security keystore`; default: $ROS_SECURITY_KEYSTORE).
    #[arg(long)]
    pub keystore: Option<PathBuf>,
}

impl SecurityArgs {
    /// The setting for a node whose own enclave is `default_enclave`; prints a one-line
    /// warning when the node runs without security.
    pub fn resolve(&self, default_enclave: &str) -> Result<Security> {
        let req = SecurityRequest {
            enclave: self.enclave.clone(),
            keystore: self.keystore.clone(),
        };
        let r = Security::resolve(&req, default_enclave, |k| std::env::var(k).ok())?;
        if let Some(w) = r.warning {
            eprintln!("warning: {w}");
        }
        if let Security::Enclave { enclave, dir } = &r.security {
            eprintln!("DDS security: enclave {enclave} ({})", dir.display());
        }
        Ok(r.security)
    }
}

#[derive(Args)]
pub struct SecurityCmdArgs {
    #[command(subcommand)]
    pub command: SecurityCommand,
}

#[derive(Subcommand)]
pub enum SecurityCommand {
    /// Create a keystore: an identity CA, a permissions CA and the signed domain governance
    /// (authentication required, discovery and data encrypted, access control on every topic).
    Keystore {
        dir: PathBuf,
        /// How long the CAs stay valid (days).
        #[arg(long, default_value_t = 3650)]
        days: u32,
    },
    /// Create (or re-issue) an enclave: key, certificate and signed permissions for one role,
    /// with the topic names given (the defaults match `deploy` and `sim --ros`).
    Key(KeyArgs),
    /// Check an enclave as a node does before joining: files, signatures, validity.
    Check { dir: PathBuf, enclave: String },
}

#[derive(Args)]
pub struct KeyArgs {
    /// The keystore.
    pub dir: PathBuf,
    /// The enclave, like /embody/deploy.
    pub enclave: String,
    /// What the enclave's node may do: robot, deploy, operator, policy, observer or bench.
    /// Default: the enclave's last name when it is one of these (/embody/deploy -> deploy).
    #[arg(long)]
    pub role: Option<String>,
    /// How long the certificate and permissions stay valid (days).
    #[arg(long, default_value_t = 365)]
    pub days: u32,
    /// Tests: move the validity this many days into the past (an expired certificate).
    #[arg(long, hide = true, default_value_t = 0)]
    pub backdate_days: u32,
    #[command(flatten)]
    pub names: super::ros::RosArgs,
}

pub fn run(a: SecurityCmdArgs) -> Result<ExitCode> {
    match a.command {
        SecurityCommand::Keystore { dir, days } => {
            security::create_keystore(&dir, Validity::days(days, 0))
                .with_context(|| format!("cannot create the keystore {}", dir.display()))?;
            println!(
                "keystore {}: identity and permissions CAs valid {days} days, governance signed; \
                 the CA keys are in {}/private (keep them off the robot)",
                dir.display(),
                dir.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        SecurityCommand::Key(k) => key(k),
        SecurityCommand::Check { dir, enclave } => {
            security::keystore::check_enclave_name(&enclave)?;
            let path = security::enclave_dir(&dir, &enclave);
            let c = security::check_enclave(&path)?;
            println!(
                "{}: CN={} valid until {}; governance and permissions signed by the permissions CA",
                path.display(),
                c.subject,
                c.not_after
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn key(k: KeyArgs) -> Result<ExitCode> {
    let role = match &k.role {
        Some(r) => Role::parse(r).with_context(|| {
            format!(
                "--role {r:?}: one of {}",
                Role::ALL.map(|r| r.name()).join(", ")
            )
        })?,
        None => match Role::from_enclave(&k.enclave) {
            Some(r) => r,
            None => bail!(
                "enclave {}: its last name is not a role; pass --role ({})",
                k.enclave,
                Role::ALL.map(|r| r.name()).join(", ")
            ),
        },
    };
    let cfg = k.names.config();
    let made = security::create_enclave(
        &k.dir,
        &k.enclave,
        role,
        &cfg,
        Validity::days(k.days, k.backdate_days),
    )
    .with_context(|| format!("cannot create the enclave {}", k.enclave))?;
    println!(
        "enclave {} ({}): role {}, valid {} days\n  publishes: {}\n  subscribes: {}",
        k.enclave,
        made.dir.display(),
        made.role.name(),
        k.days,
        made.rules.publish.join(" "),
        made.rules.subscribe.join(" ")
    );
    Ok(ExitCode::SUCCESS)
}
