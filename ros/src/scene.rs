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
    /// Which table this is when the publisher sets new ones (`embody sim --ros
    /// --new-scene-when-done` counts 0, 1, ...): deploy waits for a new number before its next
    /// run and names the table its "finished" status is about. A perception node may leave it
    /// out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub episode: Option<u64>,
}
