//! What a scene holds apart from poses, as published on the scene topic.

use embody_agent::perception::ObjectInfo;
use embody_agent::types::Container;
use serde::{Deserialize, Serialize};

/// Objects (id, class, colour, size) and containers of the work cell. Poses come separately,
/// at a rate, on the objects topic.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SceneInfo {
    pub objects: Vec<ObjectInfo>,
    pub containers: Vec<Container>,
    pub table_height_m: f64,
}
