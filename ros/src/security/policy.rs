//! Which embody node may publish or subscribe which DDS topic: the access policy that
//! `embody security key` signs into each enclave's permissions document, and the domain
//! governance every enclave shares.
//!
//! DDS-Security checks DDS topic names, not ROS names: ROS 2 maps a topic `/a/b` to `rt/a/b`, a
//! service `/s` to `rq/sRequest` and `rr/sReply`, and an action `/x` to services and topics under
//! `/x/_action/`. The rules are written against those names.

use std::fmt::Write as _;

use crate::RosConfig;

/// What an enclave's node does on the robot's network. Each embody command runs as one role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The arm's side (`embody sim --ros`, or the bridge on a real robot): publishes joint
    /// states, frames, objects, the scene and camera images; takes trajectories and gripper
    /// commands (topics and action servers).
    Robot,
    /// `embody deploy`: reads the robot, commands the arm and the gripper, calls the policy
    /// server, takes the e-stop.
    Deploy,
    /// An operator station (`embody estop`): presses and releases the e-stop, reads the status.
    Operator,
    /// `embody policy serve`: answers chunk requests.
    Policy,
    /// Reads every topic, commands nothing (dashboards, loggers).
    Observer,
    /// `embody bench ros`: its own benchmark topic only.
    Bench,
}

impl Role {
    /// The role an enclave's last path component names (`/embody/deploy` -> deploy), so that the
    /// usual enclaves need no `--role`.
    pub fn from_enclave(enclave: &str) -> Option<Role> {
        let last = enclave.rsplit('/').next().unwrap_or("");
        Some(match last {
            "robot" | "sim" => Role::Robot,
            "deploy" | "agent" => Role::Deploy,
            "operator" | "estop" => Role::Operator,
            "policy" | "policy_server" => Role::Policy,
            "observer" | "monitor" => Role::Observer,
            "bench" => Role::Bench,
            _ => return None,
        })
    }

    pub const ALL: [Role; 6] = [
        Role::Robot,
        Role::Deploy,
        Role::Operator,
        Role::Policy,
        Role::Observer,
        Role::Bench,
    ];

    /// A role by its name (`deploy`), as `--role` takes it.
    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Role::Robot => "robot",
            Role::Deploy => "deploy",
            Role::Operator => "operator",
            Role::Policy => "policy",
            Role::Observer => "observer",
            Role::Bench => "bench",
        }
    }
}

/// DDS topic expressions (globs) an enclave may publish and subscribe.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rules {
    pub publish: Vec<String>,
    pub subscribe: Vec<String>,
}

fn rt(topic: &str) -> String {
    format!("rt/{}", topic.trim_start_matches('/'))
}

/// The request and reply topics of a service (or of every service under a prefix, with `*`).
fn service(name: &str) -> (String, String) {
    let n = name.trim_start_matches('/');
    (format!("rq/{n}Request"), format!("rr/{n}Reply"))
}

/// An action's services and topics, as (client publishes, client subscribes).
fn action(name: &str) -> (Vec<String>, Vec<String>) {
    let n = name.trim_start_matches('/');
    (
        vec![format!("rq/{n}/_action/*")],
        vec![format!("rr/{n}/_action/*"), format!("rt/{n}/_action/*")],
    )
}

/// The policy server's services and model topic, for every server name.
const POLICY_PREFIX: &str = "/embody/policy/*";

impl Rules {
    /// What `role` may do with the topic names of `cfg`. Every node may use ROS 2's own
    /// bookkeeping topics (discovery info, rosout, parameter events).
    pub fn for_role(role: Role, cfg: &RosConfig) -> Rules {
        let mut r = Rules::default();
        let graph = ["ros_discovery_info", "rt/rosout", "rt/parameter_events"];
        r.publish.extend(graph.iter().map(|s| s.to_string()));
        r.subscribe.extend(graph.iter().map(|s| s.to_string()));
        let camera = format!("{}/*", rt(cfg.camera_namespace.trim_end_matches('/')));
        let robot_out = [
            rt(&cfg.joint_states_topic),
            rt(&cfg.tf_topic),
            rt(&cfg.objects_topic),
            rt(&cfg.scene_topic),
            rt(&cfg.robot_description_topic),
            rt(&cfg.detections_topic),
            camera,
        ];
        let commands = [rt(&cfg.trajectory_topic()), rt(&cfg.gripper_topic())];
        let (traj_pub, traj_sub) = action(&cfg.trajectory_action());
        let (grip_pub, grip_sub) = action(&cfg.gripper_action());
        let (policy_rq, policy_rr) = service(POLICY_PREFIX);
        let policy_model = rt(POLICY_PREFIX);
        match role {
            Role::Robot => {
                r.publish.extend(robot_out);
                r.subscribe.extend(commands);
                r.subscribe.push(rt(&cfg.status_topic));
                // An action server takes what the client publishes and answers on the rest.
                r.subscribe.extend(traj_pub.into_iter().chain(grip_pub));
                r.publish.extend(traj_sub.into_iter().chain(grip_sub));
            }
            Role::Deploy => {
                r.subscribe.extend(robot_out);
                r.subscribe.push(rt(&cfg.estop_topic));
                r.publish.extend(commands);
                r.publish.push(rt(&cfg.status_topic));
                r.publish.extend(traj_pub.into_iter().chain(grip_pub));
                r.subscribe.extend(traj_sub.into_iter().chain(grip_sub));
                r.publish.push(policy_rq);
                r.subscribe.push(policy_rr);
                r.subscribe.push(policy_model);
            }
            Role::Operator => {
                r.publish.push(rt(&cfg.estop_topic));
                r.subscribe.push(rt(&cfg.status_topic));
                r.subscribe.push(rt(&cfg.joint_states_topic));
            }
            Role::Policy => {
                r.subscribe.push(policy_rq);
                r.publish.push(policy_rr);
                r.publish.push(policy_model);
            }
            Role::Observer => r.subscribe.push("rt/*".into()),
            Role::Bench => {
                r.publish.push("rt/embody/bench/*".into());
                r.subscribe.push("rt/embody/bench/*".into());
            }
        }
        r
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The domain governance: no unauthenticated participants, discovery and liveliness encrypted,
/// every RTPS message encrypted, and on every topic access control with encrypted metadata.
/// Data protection is NONE: RustDDS 0.15 cannot decrypt fragmented payload-protected samples,
/// and the RTPS-level encryption already covers the payload on the wire.
pub fn governance_xml() -> String {
    r#"<?xml version="1.0" encoding="UTF-8"?>
<dds xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="http://www.omg.org/spec/DDS-SECURITY/20170901/omg_shared_ca_governance.xsd">
  <domain_access_rules>
    <domain_rule>
      <domains>
        <id_range>
          <min>0</min>
          <max>232</max>
        </id_range>
      </domains>
      <allow_unauthenticated_participants>false</allow_unauthenticated_participants>
      <enable_join_access_control>true</enable_join_access_control>
      <discovery_protection_kind>ENCRYPT</discovery_protection_kind>
      <liveliness_protection_kind>ENCRYPT</liveliness_protection_kind>
      <rtps_protection_kind>ENCRYPT</rtps_protection_kind>
      <topic_access_rules>
        <topic_rule>
          <topic_expression>*</topic_expression>
          <enable_discovery_protection>true</enable_discovery_protection>
          <enable_liveliness_protection>true</enable_liveliness_protection>
          <enable_read_access_control>true</enable_read_access_control>
          <enable_write_access_control>true</enable_write_access_control>
          <metadata_protection_kind>ENCRYPT</metadata_protection_kind>
          <data_protection_kind>NONE</data_protection_kind>
        </topic_rule>
      </topic_access_rules>
    </domain_rule>
  </domain_access_rules>
</dds>
"#
    .to_string()
}

/// One enclave's permissions: `subject` (the certificate's subject, `CN=<enclave>`) may do
/// what `rules` allow on every domain between `not_before` and `not_after` (UTC,
/// `YYYY-MM-DDTHH:MM:SS`, the certificate's own validity); everything else is denied.
pub fn permissions_xml(
    enclave: &str,
    subject: &str,
    not_before: &str,
    not_after: &str,
    rules: &Rules,
) -> String {
    let topics = |list: &[String]| {
        let mut s = String::new();
        for t in list {
            let _ = writeln!(s, "            <topic>{}</topic>", xml_escape(t));
        }
        s
    };
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<dds xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="http://www.omg.org/spec/DDS-SECURITY/20170901/omg_shared_ca_permissions.xsd">
  <permissions>
    <grant name="{grant}">
      <subject_name>{subject}</subject_name>
      <validity>
        <not_before>{not_before}</not_before>
        <not_after>{not_after}</not_after>
      </validity>
      <allow_rule>
        <domains>
          <id_range>
            <min>0</min>
            <max>232</max>
          </id_range>
        </domains>
        <publish>
          <topics>
{publish}          </topics>
        </publish>
        <subscribe>
          <topics>
{subscribe}          </topics>
        </subscribe>
      </allow_rule>
      <default>DENY</default>
    </grant>
  </permissions>
</dds>
"#,
        grant = xml_escape(enclave),
        subject = xml_escape(subject),
        publish = topics(&rules.publish),
        subscribe = topics(&rules.subscribe),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_deploy_commands_the_arm_and_only_the_operator_the_estop() {
        let cfg = RosConfig::default();
        let traj = "rt/panda_arm_controller/joint_trajectory".to_string();
        let estop = "rt/embody/estop".to_string();
        for role in Role::ALL {
            let r = Rules::for_role(role, &cfg);
            assert_eq!(r.publish.contains(&traj), role == Role::Deploy, "{role:?}");
            assert_eq!(
                r.publish.contains(&estop),
                role == Role::Operator,
                "{role:?}"
            );
            // Nobody may publish on every topic.
            assert!(
                !r.publish.iter().any(|t| t == "*" || t == "rt/*"),
                "{role:?}: {:?}",
                r.publish
            );
        }
        assert_eq!(Role::from_enclave("/embody/deploy"), Some(Role::Deploy));
        assert_eq!(Role::from_enclave("/lab/arm1/robot"), Some(Role::Robot));
        assert_eq!(Role::from_enclave("/embody/x"), None);
    }

    #[test]
    fn topic_names_are_escaped_in_the_permissions() {
        let r = Rules {
            publish: vec!["rt/a<b>&".into()],
            subscribe: vec![],
        };
        let x = permissions_xml(
            "/e",
            "CN=/e",
            "2026-01-01T00:00:00",
            "2027-01-01T00:00:00",
            &r,
        );
        assert!(x.contains("<topic>rt/a&lt;b&gt;&amp;</topic>"), "{x}");
    }
}
