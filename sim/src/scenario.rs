//! Scenario files: the TOML format, its validation (errors name file, line and key) and the
//! seeded randomization that turns a scenario and a seed into one concrete scene.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A problem with a scenario file; the message names the file, the line and the key.
#[derive(Debug, Error)]
pub enum ScenarioError {
    #[error("cannot read scenario {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Syntax { path: String, message: String },
    #[error("{path}:{line}: `{key}`: {message}")]
    Invalid {
        path: String,
        line: usize,
        key: String,
        message: String,
    },
    #[error("{path}: cannot place the objects: {message}")]
    Placement { path: String, message: String },
}

/// The most objects a scene may hold (a bound on what a file can make the simulator build).
pub const MAX_OBJECTS: usize = 64;

/// The longest episode time limit (s). Episodes take minutes; with [`MIN_DT`] this bounds the
/// physics steps an episode, and the replay of its log (which trusts no stamp past the time
/// limit), can take.
pub const MAX_TIME_LIMIT_S: f64 = 3600.0;

/// The smallest physics step (s): 10 kHz, ten times finer than any controller here needs.
pub const MIN_DT: f64 = 1e-4;

/// A number or an inclusive `[low, high]` range sampled uniformly per episode.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Range {
    Fixed(f64),
    Between([f64; 2]),
}

impl Range {
    pub fn low(&self) -> f64 {
        match self {
            Range::Fixed(v) => *v,
            Range::Between([a, _]) => *a,
        }
    }
    pub fn high(&self) -> f64 {
        match self {
            Range::Fixed(v) => *v,
            Range::Between([_, b]) => *b,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    #[serde(default = "default_instruction")]
    pub instruction: String,
    /// The policy `embody run`, `eval` and `view` use when none is given: `scripted`, or
    /// `diffusion:<model>` with the model's path relative to this file. The scripted expert
    /// when absent.
    #[serde(default)]
    pub policy: Option<String>,
    /// Episode time limit on the simulation clock (s).
    pub time_limit_s: f64,
    #[serde(default)]
    pub physics: Physics,
    pub robot: RobotSection,
    pub table: Table,
    pub containers: Vec<ContainerSpec>,
    pub spawn: Spawn,
    pub objects: Vec<ObjectSpec>,
    #[serde(default)]
    pub success: Success,
    #[serde(default)]
    pub perception: PerceptionSection,
    /// Cameras; with one, perception works from its images instead of the simulator's truth.
    #[serde(default)]
    pub cameras: Vec<crate::camera_spec::CameraSpec>,

    /// Where the file was read from (for relative paths and error messages).
    #[serde(skip)]
    pub source: PathBuf,
    /// The file's text, kept for logs and replay.
    #[serde(skip)]
    pub text: String,
}

fn default_instruction() -> String {
    "clear the table".into()
}

/// Physics settings. Defaults were measured to make friction grasps hold (see README).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Physics {
    pub dt: f64,
    /// rapier's solver iterations (substeps: each one re-assembles the arm's mass matrix).
    pub solver_iterations: usize,
    /// Projected Gauss-Seidel iterations inside each substep.
    pub pgs_iterations: usize,
    pub friction: f64,
    pub gravity: f64,
}

impl Default for Physics {
    fn default() -> Self {
        Self {
            dt: 1.0 / 240.0,
            solver_iterations: 4,
            pgs_iterations: 1,
            friction: 1.0,
            gravity: -9.81,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RobotSection {
    /// URDF path, relative to the scenario file.
    pub urdf: String,
    pub base_link: String,
    pub tcp_link: String,
    /// Joint positions the episode starts from (rad).
    pub home: Vec<f64>,
    /// Position-motor stiffness per arm joint (N m / rad), force-based.
    pub arm_stiffness: Vec<f64>,
    /// Position-motor damping per arm joint (N m s / rad).
    pub arm_damping: Vec<f64>,
    pub finger_stiffness: f64,
    pub finger_damping: f64,
    /// Force the gripper squeezes with (N); the URDF's finger effort is the upper bound.
    pub grip_force_n: f64,
    /// Controller rate (Hz); a whole number of physics steps per control tick.
    pub control_rate_hz: f64,
    /// Fraction of the URDF's velocity and acceleration limits the controller may use.
    #[serde(default = "default_limit_scale")]
    pub limit_scale: f64,
    /// The arm's ros2_control trajectory controller: commands go to
    /// /<controller>/joint_trajectory (or its follow_joint_trajectory action), in logs too.
    #[serde(default = "default_controller")]
    pub controller: String,
    /// The gripper's controller: /<gripper_controller>/command and its gripper_cmd action.
    #[serde(default = "default_gripper_controller")]
    pub gripper_controller: String,
}

fn default_limit_scale() -> f64 {
    0.5
}

/// ros2_controllers' own example names, for cells that name none.
fn default_controller() -> String {
    "joint_trajectory_controller".into()
}

fn default_gripper_controller() -> String {
    "gripper_controller".into()
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Table {
    /// x, y size and thickness (m); the top surface is the base frame's z = 0 plane.
    pub size: [f64; 3],
    /// x, y of the table's centre in the base frame.
    pub center: [f64; 2],
    /// Height of the floor below the table top (m), where dropped objects land.
    #[serde(default = "default_floor")]
    pub floor_depth: f64,
}

fn default_floor() -> f64 {
    0.75
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContainerSpec {
    pub id: String,
    #[serde(default = "default_bin_class")]
    pub class: String,
    #[serde(default = "default_bin_color")]
    pub color: String,
    /// x, y of the container's centre on the table (a fixed placement; or give `placements`).
    #[serde(default)]
    pub position: Option<[f64; 2]>,
    /// Rotation about z (rad), with `position`.
    #[serde(default)]
    pub yaw: f64,
    /// A scene family's placements: each episode draws one region (uniformly), then x, y and
    /// yaw uniformly inside it, until the container lies on the table, within reach and clear
    /// of the other containers.
    #[serde(default)]
    pub placements: Vec<PlacementRegion>,
    /// Inner x, y size and wall height (m).
    pub inner_size: [f64; 3],
    #[serde(default = "default_wall")]
    pub wall_thickness: f64,
}

/// A region a container's centre is drawn from, with its yaw range (rad).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlacementRegion {
    pub x: [f64; 2],
    pub y: [f64; 2],
    #[serde(default)]
    pub yaw: [f64; 2],
}

impl ContainerSpec {
    /// The fixed centre; `[0, 0]` for a container drawn from `placements` before sampling
    /// (a sampled scene's containers always have one).
    pub fn center(&self) -> [f64; 2] {
        self.position.unwrap_or_default()
    }

    /// The same container at one placement.
    pub fn placed(&self, x: f64, y: f64, yaw: f64) -> Self {
        Self {
            position: Some([x, y]),
            yaw,
            placements: Vec::new(),
            ..self.clone()
        }
    }

    /// Half the outer footprint (m), x and y in the container's frame.
    pub fn outer_half_extents(&self) -> [f64; 2] {
        [
            self.inner_size[0] / 2.0 + self.wall_thickness,
            self.inner_size[1] / 2.0 + self.wall_thickness,
        ]
    }

    /// The outer footprint's corners at (x, y, yaw).
    pub fn corners_at(&self, x: f64, y: f64, yaw: f64) -> [[f64; 2]; 4] {
        let [hx, hy] = self.outer_half_extents();
        let (c, s) = (yaw.cos(), yaw.sin());
        [(hx, hy), (hx, -hy), (-hx, hy), (-hx, -hy)]
            .map(|(lx, ly)| [x + c * lx - s * ly, y + s * lx + c * ly])
    }
}

fn default_bin_class() -> String {
    "bin".into()
}
fn default_bin_color() -> String {
    "gray".into()
}
fn default_wall() -> f64 {
    0.01
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spawn {
    /// Region objects are placed in (base frame, m).
    pub x: [f64; 2],
    pub y: [f64; 2],
    /// Rotation about z (rad).
    #[serde(default = "default_yaw")]
    pub yaw: [f64; 2],
    /// Smallest free gap between two objects' footprints (m).
    pub min_gap: f64,
    /// Objects farther than this from the base axis are out of reach (m).
    #[serde(default = "default_reach")]
    pub max_reach: f64,
    #[serde(default = "default_min_reach")]
    pub min_reach: f64,
    /// How many objects in all, `[low, high]` drawn per episode: each kind first gets its
    /// `count` low, then random kinds with room left (below their `count` high) get one more
    /// until the total is reached. Without it every kind draws its own count.
    #[serde(default)]
    pub total: Option<[usize; 2]>,
}

fn default_yaw() -> [f64; 2] {
    [-std::f64::consts::PI, std::f64::consts::PI]
}
fn default_reach() -> f64 {
    0.75
}
fn default_min_reach() -> f64 {
    0.3
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    Box,
    Cylinder,
    Cup,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectSpec {
    pub id: String,
    pub class: String,
    pub shape: Shape,
    pub color: String,
    /// Box: x, y, z; cylinder and cup: diameter, height (m).
    pub size: Vec<f64>,
    /// Relative size variation per episode (0.1 = +-10 %), each dimension on its own.
    #[serde(default)]
    pub size_jitter: f64,
    /// A whole-object scale factor `[low, high]` drawn per episode (proportions kept), applied
    /// before the jitter.
    #[serde(default)]
    pub scale: Option<[f64; 2]>,
    pub mass: Range,
    /// How many of this object: a number, or `[low, high]` drawn per episode.
    #[serde(default = "default_count")]
    pub count: Count,
}

/// A count, or an inclusive `[low, high]` range drawn uniformly per episode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Count {
    Fixed(usize),
    Between([usize; 2]),
}

impl Count {
    pub fn low(&self) -> usize {
        match self {
            Count::Fixed(v) => *v,
            Count::Between([a, _]) => *a,
        }
    }
    pub fn high(&self) -> usize {
        match self {
            Count::Fixed(v) => *v,
            Count::Between([_, b]) => *b,
        }
    }
}

fn default_count() -> Count {
    Count::Fixed(1)
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Success {
    /// Container every object must end in.
    pub container: Option<String>,
    /// Fraction of objects that must be cleared for the episode to count as a success.
    pub min_cleared_fraction: f64,
}

impl Default for Success {
    fn default() -> Self {
        Self {
            container: None,
            min_cleared_fraction: 1.0,
        }
    }
}

/// Simulated perception's noise (see `embody_agent::SimulatedPerception`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PerceptionSection {
    pub position_noise_m: f64,
}

/// One concrete object of a sampled scene.
#[derive(Clone, Debug, PartialEq)]
pub struct ObjectInstance {
    pub id: String,
    pub class: String,
    pub shape: Shape,
    pub color: String,
    /// Full extents x, y, z (m); cylinders and cups have x = y = diameter.
    pub extents: [f64; 3],
    pub mass: f64,
    /// x, y, yaw on the table.
    pub x: f64,
    pub y: f64,
    pub yaw: f64,
}

impl Scenario {
    /// Reads and validates a scenario file.
    pub fn from_file(path: &Path) -> Result<Self, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_str_at(&text, path)
    }

    /// Parses scenario text; `path` names it in errors and anchors relative paths.
    pub fn from_str_at(text: &str, path: &Path) -> Result<Self, ScenarioError> {
        let shown = path.display().to_string();
        let mut s: Scenario = toml::from_str(text).map_err(|e| ScenarioError::Syntax {
            path: shown.clone(),
            message: describe_toml_error(&e, text),
        })?;
        s.source = path.to_path_buf();
        s.text = text.to_string();
        s.validate()?;
        Ok(s)
    }

    /// The same scenario with the controller at `hz`. The physics step shrinks to fit a whole
    /// number of steps in a control period when it must; the returned scenario's text says so,
    /// so a log of it replays.
    pub fn with_control_rate(&self, hz: f64) -> Result<Self, ScenarioError> {
        let invalid = |m: String| ScenarioError::Syntax {
            path: self.source.display().to_string(),
            message: format!("`robot.control_rate_hz` override: {m}"),
        };
        if !(hz.is_finite() && hz > 0.0) {
            return Err(invalid(format!("control rate {hz} Hz must be positive")));
        }
        let mut doc: toml::Table =
            toml::from_str(&self.text).map_err(|e| invalid(e.to_string()))?;
        let period = 1.0 / hz;
        let substeps = (period / self.physics.dt - 1e-9).ceil().max(1.0);
        let dt = period / substeps;
        let set = |doc: &mut toml::Table, table: &str, key: &str, v: f64| {
            if let Some(toml::Value::Table(t)) = doc.get_mut(table) {
                t.insert(key.into(), toml::Value::Float(v));
            }
        };
        set(&mut doc, "robot", "control_rate_hz", hz);
        if (dt - self.physics.dt).abs() > 1e-12 {
            set(&mut doc, "physics", "dt", dt);
        }
        let text = format!(
            "# {} with the controller at {hz} Hz (physics step {dt} s)\n{}",
            self.name,
            toml::to_string(&doc).map_err(|e| invalid(e.to_string()))?
        );
        Self::from_str_at(&text, &self.source)
    }

    /// Absolute path of the robot's URDF.
    /// The scenario's default policy with a model path made relative to the working directory
    /// (`None` when the scenario names none).
    pub fn default_policy(&self) -> Option<String> {
        let spec = self.policy.as_ref()?;
        let dir = self.source.parent().unwrap_or(Path::new("."));
        Some(match spec.split_once(':') {
            Some((kind, model)) if !model.is_empty() => {
                format!("{kind}:{}", dir.join(model).display())
            }
            _ => spec.clone(),
        })
    }

    pub fn urdf_path(&self) -> PathBuf {
        let dir = self.source.parent().unwrap_or(Path::new("."));
        dir.join(&self.robot.urdf)
    }

    /// The robot description's text.
    pub fn read_urdf(&self) -> Result<String, crate::SimError> {
        let path = self.urdf_path();
        std::fs::read_to_string(&path).map_err(|e| {
            crate::SimError::Robot(format!(
                "cannot read URDF {} (robot.urdf in {}): {e}",
                path.display(),
                self.source.display()
            ))
        })
    }

    /// The success container: the one named in `[success]`, else the first.
    pub fn target_container(&self) -> &ContainerSpec {
        self.success
            .container
            .as_ref()
            .and_then(|id| self.containers.iter().find(|c| &c.id == id))
            .unwrap_or(&self.containers[0])
    }

    fn invalid(&self, key: &str, message: impl Into<String>) -> ScenarioError {
        ScenarioError::Invalid {
            path: self.source.display().to_string(),
            line: locate_key(&self.text, key).unwrap_or(0),
            key: key.to_string(),
            message: message.into(),
        }
    }

    /// Every key in range, each error naming the key and its line; run once on load, before
    /// anything is built from the scenario.
    fn validate(&self) -> Result<(), ScenarioError> {
        self.validate_time_and_cameras()?;
        self.validate_physics()?;
        self.validate_robot()?;
        self.validate_table_and_containers()?;
        self.validate_success_and_spawn()?;
        self.validate_objects()
    }

    /// The time limit, and each camera's size, field of view, rate and aim.
    fn validate_time_and_cameras(&self) -> Result<(), ScenarioError> {
        self.positive("time_limit_s", self.time_limit_s)?;
        if self.time_limit_s > MAX_TIME_LIMIT_S {
            return Err(self.invalid(
                "time_limit_s",
                format!("at most {MAX_TIME_LIMIT_S} s, got {}", self.time_limit_s),
            ));
        }
        for (i, c) in self.cameras.iter().enumerate() {
            if let Err(why) = crate::camera_spec::check_size(c.width, c.height) {
                // Name the key at fault: the side out of range, else `width`.
                let key = match why {
                    crate::camera_spec::SizeError::Side { side, .. } => side,
                    _ => "width",
                };
                return Err(self.invalid(
                    &format!("cameras[{i}].{key}"),
                    format!("camera '{}': {why}", c.name),
                ));
            }
            if !(c.fov_deg.is_finite() && c.fov_deg > 1.0 && c.fov_deg < 170.0) {
                return Err(self.invalid(
                    "cameras",
                    format!(
                        "camera '{}': fov_deg must be in (1, 170), got {}",
                        c.name, c.fov_deg
                    ),
                ));
            }
            let d: f64 = (0..3).map(|k| (c.look_at[k] - c.position[k]).powi(2)).sum();
            if !(c.rate_hz.is_finite() && c.rate_hz > 0.0) {
                return Err(self.invalid(
                    "cameras",
                    format!("camera '{}': rate_hz must be positive", c.name),
                ));
            }
            let finite = c.position.iter().chain(&c.look_at).all(|v| v.is_finite());
            if !finite || d.sqrt() <= 1e-6 {
                return Err(self.invalid(
                    "cameras",
                    format!("camera '{}': look_at must differ from position", c.name),
                ));
            }
        }
        Ok(())
    }

    /// The physics step (coarse enough to finish, fine enough for grasps) and solver.
    fn validate_physics(&self) -> Result<(), ScenarioError> {
        self.positive("physics.dt", self.physics.dt)?;
        if self.physics.dt > 0.02 {
            return Err(self.invalid("physics.dt", "larger than 0.02 s: grasps will not hold"));
        }
        if self.physics.dt < MIN_DT {
            return Err(self.invalid(
                "physics.dt",
                format!(
                    "smaller than {MIN_DT} s: an episode would take too many steps to simulate"
                ),
            ));
        }
        if self.physics.solver_iterations == 0 {
            return Err(self.invalid("physics.solver_iterations", "must be at least 1"));
        }
        if self.physics.pgs_iterations == 0 {
            return Err(self.invalid("physics.pgs_iterations", "must be at least 1"));
        }
        if !(self.physics.friction.is_finite() && self.physics.friction >= 0.0) {
            return Err(self.invalid("physics.friction", "must be >= 0"));
        }
        Ok(())
    }

    /// Gains per arm joint, grip, and a control rate that divides the physics rate.
    fn validate_robot(&self) -> Result<(), ScenarioError> {
        let r = &self.robot;
        let n = r.home.len();
        if n == 0 {
            return Err(self.invalid("robot.home", "must list one position per arm joint"));
        }
        for (key, v) in [
            ("robot.arm_stiffness", &r.arm_stiffness),
            ("robot.arm_damping", &r.arm_damping),
        ] {
            if v.len() != n {
                return Err(
                    self.invalid(key, format!("has {} values, robot.home has {n}", v.len()))
                );
            }
            if v.iter().any(|x| !(x.is_finite() && *x >= 0.0)) {
                return Err(self.invalid(key, "values must be >= 0"));
            }
        }
        self.positive("robot.finger_stiffness", r.finger_stiffness)?;
        self.positive("robot.grip_force_n", r.grip_force_n)?;
        self.positive("robot.control_rate_hz", r.control_rate_hz)?;
        let ratio = 1.0 / (r.control_rate_hz * self.physics.dt);
        if (ratio - ratio.round()).abs() > 1e-6 || ratio.round() < 1.0 {
            return Err(self.invalid(
                "robot.control_rate_hz",
                format!(
                    "must divide the physics rate ({} Hz) into whole steps",
                    1.0 / self.physics.dt
                ),
            ));
        }
        if !(r.limit_scale > 0.0 && r.limit_scale <= 1.0) {
            return Err(self.invalid("robot.limit_scale", "must be in (0, 1]"));
        }
        Ok(())
    }

    /// The table, and each container: a fixed position on the table or placement regions.
    fn validate_table_and_containers(&self) -> Result<(), ScenarioError> {
        for (i, v) in self.table.size.iter().enumerate() {
            self.positive(&format!("table.size[{i}]"), *v)?;
        }
        self.positive("table.floor_depth", self.table.floor_depth)?;
        if self.containers.is_empty() {
            return Err(self.invalid("containers", "needs at least one container (a bin)"));
        }
        for (i, c) in self.containers.iter().enumerate() {
            for (k, v) in c.inner_size.iter().enumerate() {
                self.positive(&format!("containers[{i}].inner_size[{k}]"), *v)?;
            }
            self.positive(&format!("containers[{i}].wall_thickness"), c.wall_thickness)?;
            match (c.position, c.placements.is_empty()) {
                (Some(p), true) => {
                    if !(p.iter().all(|v| v.is_finite()) && c.yaw.is_finite()) {
                        return Err(self.invalid(
                            &format!("containers[{i}].position"),
                            "must be finite numbers",
                        ));
                    }
                    if !self.on_table(p[0], p[1], 0.0) {
                        return Err(self
                            .invalid(&format!("containers[{i}].position"), "is not on the table"));
                    }
                }
                (None, true) => {
                    return Err(self.invalid(
                        &format!("containers[{i}]"),
                        "needs a `position` or a list of `placements`",
                    ))
                }
                (Some(_), false) => {
                    return Err(self.invalid(
                        &format!("containers[{i}].placements"),
                        "give either `position` or `placements`, not both",
                    ))
                }
                (None, false) => {
                    if c.placements.len() > 64 {
                        return Err(self.invalid(
                            &format!("containers[{i}].placements"),
                            "at most 64 regions",
                        ));
                    }
                    for (k, r) in c.placements.iter().enumerate() {
                        let key = |f: &str| format!("containers[{i}].placements[{k}].{f}");
                        self.range(&key("x"), r.x)?;
                        self.range(&key("y"), r.y)?;
                        self.range(&key("yaw"), r.yaw)?;
                        let (cx, cy) = ((r.x[0] + r.x[1]) / 2.0, (r.y[0] + r.y[1]) / 2.0);
                        if !self.on_table(cx, cy, 0.0) {
                            return Err(self.invalid(
                                &key("x"),
                                format!("the region's centre ({cx}, {cy}) is not on the table"),
                            ));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// The success rule, and a spawn region that stays on the table.
    fn validate_success_and_spawn(&self) -> Result<(), ScenarioError> {
        if let Some(id) = &self.success.container {
            if !self.containers.iter().any(|c| &c.id == id) {
                return Err(
                    self.invalid("success.container", format!("no container with id '{id}'"))
                );
            }
        }
        if !(self.success.min_cleared_fraction > 0.0 && self.success.min_cleared_fraction <= 1.0) {
            return Err(self.invalid("success.min_cleared_fraction", "must be in (0, 1]"));
        }
        self.range("spawn.x", self.spawn.x)?;
        self.range("spawn.y", self.spawn.y)?;
        self.range("spawn.yaw", self.spawn.yaw)?;
        if !(self.spawn.min_gap.is_finite() && self.spawn.min_gap >= 0.0) {
            return Err(self.invalid("spawn.min_gap", "must be >= 0"));
        }
        for (x, y) in [
            (self.spawn.x[0], self.spawn.y[0]),
            (self.spawn.x[1], self.spawn.y[1]),
            (self.spawn.x[0], self.spawn.y[1]),
            (self.spawn.x[1], self.spawn.y[0]),
        ] {
            if !self.on_table(x, y, 0.0) {
                return Err(self.invalid(
                    "spawn.x",
                    format!("the spawn region reaches off the table at ({x}, {y})"),
                ));
            }
        }
        Ok(())
    }

    /// Each object (unique id, sizes for its shape, fits the gripper, mass, count) and the total.
    fn validate_objects(&self) -> Result<(), ScenarioError> {
        if self.objects.is_empty() {
            return Err(self.invalid("objects", "needs at least one object"));
        }
        let mut ids = std::collections::HashSet::new();
        for (i, o) in self.objects.iter().enumerate() {
            let key = |f: &str| format!("objects[{i}].{f}");
            if !ids.insert(o.id.clone()) {
                return Err(self.invalid(&key("id"), format!("'{}' is used twice", o.id)));
            }
            let expected = match o.shape {
                Shape::Box => 3,
                Shape::Cylinder | Shape::Cup => 2,
            };
            if o.size.len() != expected {
                return Err(self.invalid(
                    &key("size"),
                    format!(
                        "a {:?} needs {expected} sizes, got {}",
                        o.shape,
                        o.size.len()
                    ),
                ));
            }
            for v in &o.size {
                self.positive(&key("size"), *v)?;
            }
            if !(0.0..0.5).contains(&o.size_jitter) {
                return Err(self.invalid(&key("size_jitter"), "must be in [0, 0.5)"));
            }
            let scale_high = match o.scale {
                None => 1.0,
                Some(s) => {
                    self.range(&key("scale"), s)?;
                    if !(s[0] > 0.0 && s[1] <= 2.0) {
                        return Err(self.invalid(&key("scale"), "must be within (0, 2]"));
                    }
                    s[1]
                }
            };
            let narrowest = match o.shape {
                Shape::Box => o.size[0].min(o.size[1]),
                Shape::Cylinder | Shape::Cup => o.size[0],
            };
            let grip = narrowest * scale_high * (1.0 + o.size_jitter);
            if grip > 0.075 {
                return Err(self.invalid(
                    &key("size"),
                    format!("narrowest side {grip:.3} m does not fit the 0.08 m gripper"),
                ));
            }
            let (lo, hi) = (o.mass.low(), o.mass.high());
            if !(lo.is_finite() && hi.is_finite() && lo > 0.0 && lo <= hi) {
                return Err(self.invalid(
                    &key("mass"),
                    format!("must be positive (and low <= high), got {:?}", o.mass),
                ));
            }
            let floor = usize::from(self.spawn.total.is_none());
            if o.count.high() < floor.max(1)
                || o.count.low() < floor
                || o.count.low() > o.count.high()
            {
                let why = if floor == 1 {
                    "must be at least 1 (and low <= high)"
                } else {
                    "must allow at least 1 (low <= high; low may be 0 with spawn.total)"
                };
                return Err(self.invalid(&key("count"), why));
            }
            if o.count.high() > MAX_OBJECTS {
                return Err(self.invalid(&key("count"), format!("at most {MAX_OBJECTS}")));
            }
        }
        let lows: usize = self.objects.iter().map(|o| o.count.low()).sum();
        let highs: usize = self.objects.iter().map(|o| o.count.high()).sum();
        if let Some([lo, hi]) = self.spawn.total {
            if lo == 0 || lo > hi || hi > MAX_OBJECTS {
                return Err(self.invalid(
                    "spawn.total",
                    format!("must be [low, high] with 1 <= low <= high <= {MAX_OBJECTS}"),
                ));
            }
            // Every total in the range must be reachable from the counts.
            if lows > lo || highs < hi {
                return Err(self.invalid(
                    "spawn.total",
                    format!(
                        "[{lo}, {hi}] cannot be met by the objects' counts (together {lows} to {highs})"
                    ),
                ));
            }
        } else if highs > MAX_OBJECTS {
            return Err(self.invalid("objects", format!("at most {MAX_OBJECTS} objects in all")));
        }
        Ok(())
    }

    fn positive(&self, key: &str, v: f64) -> Result<(), ScenarioError> {
        if v.is_finite() && v > 0.0 {
            Ok(())
        } else {
            Err(self.invalid(key, format!("must be a positive number, got {v}")))
        }
    }

    fn range(&self, key: &str, r: [f64; 2]) -> Result<(), ScenarioError> {
        if r[0].is_finite() && r[1].is_finite() && r[0] <= r[1] {
            Ok(())
        } else {
            Err(self.invalid(
                key,
                format!("must be [low, high] with low <= high, got {r:?}"),
            ))
        }
    }

    /// Where the TCP may go: over the table, from just above its surface (the fingertips reach
    /// 5 mm below the TCP) to 0.9 m up.
    pub fn tcp_workspace(&self) -> ([f64; 3], [f64; 3]) {
        let t = &self.table;
        (
            [
                t.center[0] - t.size[0] / 2.0,
                t.center[1] - t.size[1] / 2.0,
                0.008,
            ],
            [
                t.center[0] + t.size[0] / 2.0,
                t.center[1] + t.size[1] / 2.0,
                0.9,
            ],
        )
    }

    /// Whether (x, y) lies on the table top, `margin` inside its edge.
    pub fn on_table(&self, x: f64, y: f64, margin: f64) -> bool {
        let t = &self.table;
        (x - t.center[0]).abs() <= t.size[0] / 2.0 - margin
            && (y - t.center[1]).abs() <= t.size[1] / 2.0 - margin
    }
}

/// The text of a TOML error without the library's framing, with the line it points at.
fn describe_toml_error(e: &toml::de::Error, text: &str) -> String {
    let line = e.span().map(|s| line_of(text, s.start));
    let msg = e.message().trim().to_string();
    match line {
        Some(l) => format!("line {l}: {msg}"),
        None => msg,
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Line of a dotted key such as `objects[2].mass` in TOML text (1-based), if present.
pub fn locate_key(text: &str, key: &str) -> Option<usize> {
    use toml::de::{DeTable, DeValue};
    let doc = DeTable::parse(text).ok()?;
    let mut span = doc.span();
    let mut table: Option<&DeTable> = Some(doc.get_ref());
    for part in key.split('.') {
        let (name, index) = match part.find('[') {
            Some(b) => (
                &part[..b],
                part[b + 1..part.len() - 1].parse::<usize>().ok(),
            ),
            None => (part, None),
        };
        let item = if let Some(t) = table {
            let (k, v) = t.get_key_value(name)?;
            span = k.span();
            Some(v)
        } else {
            None
        };
        table = None;
        let mut value = item?;
        if let Some(i) = index {
            if let DeValue::Array(a) = value.get_ref() {
                value = a.get(i)?;
                span = value.span();
            } else {
                return Some(line_of(text, span.start));
            }
        }
        if let DeValue::Table(t) = value.get_ref() {
            table = Some(t);
        }
    }
    Some(line_of(text, span.start))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> Scenario {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/table_clearing.toml");
        Scenario::from_file(&path).unwrap()
    }

    #[test]
    fn a_default_policy_model_is_found_relative_to_the_scenario_file() {
        let s = shipped();
        let spec = s.default_policy().unwrap();
        let model = spec.strip_prefix("diffusion:").unwrap();
        assert!(Path::new(model).is_file(), "{spec}");
        let mut none = s.clone();
        none.policy = None;
        assert_eq!(none.default_policy(), None);
        none.policy = Some("scripted".into());
        assert_eq!(none.default_policy().as_deref(), Some("scripted"));
    }

    #[test]
    fn a_faster_controller_shrinks_the_physics_step_to_fit() {
        let s = shipped().with_control_rate(500.0).unwrap();
        assert_eq!(s.robot.control_rate_hz, 500.0);
        assert!((s.physics.dt - 0.002).abs() < 1e-15, "{}", s.physics.dt);
        // The text says what runs, so a log of it rebuilds the same world.
        let again = Scenario::from_str_at(&s.text, &s.source).unwrap();
        assert_eq!(again.physics.dt, s.physics.dt);
        assert_eq!(again.robot.control_rate_hz, 500.0);
    }

    #[test]
    fn bad_cameras_are_errors_naming_the_camera() {
        let base = shipped();
        let camera = |fov: f64, look_at: &str| {
            format!(
                "{}\n[[cameras]]\nname = \"top\"\nposition = [0.5, 0.0, 1.0]\nlook_at = {look_at}\nwidth = 64\nheight = 48\nfov_deg = {fov}\n",
                base.text
            )
        };
        let ok = Scenario::from_str_at(&camera(50.0, "[0.5, 0.0, 0.0]"), &base.source).unwrap();
        assert_eq!(ok.cameras.len(), 1);
        for (text, why) in [
            (camera(0.5, "[0.5, 0.0, 0.0]"), "fov_deg"),
            (camera(50.0, "[0.5, 0.0, 1.0]"), "look_at"),
        ] {
            let e = Scenario::from_str_at(&text, &base.source)
                .unwrap_err()
                .to_string();
            assert!(e.contains("camera 'top'") && e.contains(why), "{e}");
        }
    }

    #[test]
    fn a_slower_controller_keeps_the_physics_step() {
        let base = shipped();
        let s = base.with_control_rate(60.0).unwrap();
        assert_eq!(s.physics.dt, base.physics.dt);
        assert!(shipped().with_control_rate(0.0).is_err());
        assert!(shipped().with_control_rate(f64::NAN).is_err());
    }
}
