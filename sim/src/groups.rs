//! Who collides with whom. The arm's links pass through the table they are mounted on (the
//! safety filter keeps the hand above it); fingers, objects and containers touch everything
//! that matters for grasping.

use rapier3d::prelude::{Group, InteractionGroups, InteractionTestMode};

const ARM_G: Group = Group::GROUP_1;
const FINGER_G: Group = Group::GROUP_2;
const TABLE_G: Group = Group::GROUP_3;
const OBJECT_G: Group = Group::GROUP_4;
const CONTAINER_G: Group = Group::GROUP_5;

const fn groups(member: Group, filter: Group) -> InteractionGroups {
    InteractionGroups::new(member, filter, InteractionTestMode::And)
}

pub const ROBOT_BASE: InteractionGroups = groups(ARM_G, OBJECT_G);
pub const ARM: InteractionGroups = groups(ARM_G, OBJECT_G.union(CONTAINER_G));
pub const FINGER: InteractionGroups = groups(FINGER_G, OBJECT_G.union(CONTAINER_G).union(TABLE_G));
pub const TABLE: InteractionGroups = groups(TABLE_G, OBJECT_G.union(FINGER_G));
pub const OBJECT: InteractionGroups = groups(OBJECT_G, Group::ALL);
pub const CONTAINER: InteractionGroups = groups(CONTAINER_G, OBJECT_G.union(ARM_G).union(FINGER_G));
