//! Every message's bytes, pinned: the hex below was written by embody's own CDR encoder (before
//! the switch to `cdr-encoding`), which the log tests had checked against mcap-ros2-support.
//! A change of library or of field order that moves one byte fails here.

use super::*;

fn header() -> Header {
    Header {
        stamp: Time {
            sec: 12,
            nanosec: 345,
        },
        frame_id: "panda_link0".into(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One of each message embody speaks, with its pinned bytes.
fn samples() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        (
            JointStateMsg::TYPE,
            JointStateMsg {
                header: header(),
                name: vec!["panda_joint1".into(), "j2".into()],
                position: vec![0.1, -0.2],
                velocity: vec![0.0, 1.5],
                effort: vec![],
            }
            .to_cdr(),
        ),
        (
            JointTrajectoryMsg::TYPE,
            JointTrajectoryMsg {
                header: header(),
                joint_names: vec!["a".into(), "bb".into(), "ccc".into()],
                points: vec![
                    JointTrajectoryPoint {
                        positions: vec![1.0, 2.0, 3.0],
                        velocities: vec![0.5; 3],
                        accelerations: vec![],
                        effort: vec![-1.0],
                        time_from_start: Time {
                            sec: 0,
                            nanosec: 8_000_000,
                        },
                    };
                    2
                ],
            }
            .to_cdr(),
        ),
        (
            TfMessage::TYPE,
            TfMessage {
                transforms: vec![
                    TransformStamped {
                        header: header(),
                        child_frame_id: "object/red_cube".into(),
                        translation: [0.4, -0.1, 0.025],
                        rotation: [0.0, 0.0, 0.38, 0.92],
                    },
                    TransformStamped {
                        header: Header::default(),
                        child_frame_id: "b".into(),
                        translation: [1.0, 2.0, 3.0],
                        rotation: [0.0, 0.0, 0.0, 1.0],
                    },
                ],
            }
            .to_cdr(),
        ),
        (
            GripperCommandMsg::TYPE,
            GripperCommandMsg {
                position: 0.04,
                max_effort: 20.0,
            }
            .to_cdr(),
        ),
        (BoolMsg::TYPE, BoolMsg { data: true }.to_cdr()),
        (
            StringMsg::TYPE,
            StringMsg {
                data: "{\"state\":\"running\"}".into(),
            }
            .to_cdr(),
        ),
        (
            ChunkRequestMsg::TYPE,
            ChunkRequestMsg {
                robot: "panda-1".into(),
                noise_seed: 7,
                stamp: 12.3,
                observations: vec![0.5, -1.25, 3.0],
                committed_start: 11.4,
                committed: vec![0.1; 3],
                delay_periods: 2,
                chunking: "rtc".into(),
            }
            .to_cdr(),
        ),
        (
            ChunkReplyMsg::TYPE,
            ChunkReplyMsg {
                start: 12.3,
                actions: vec![0.25; 3],
                error: "no".into(),
                compute_ms: 14.5,
            }
            .to_cdr(),
        ),
        (
            CameraInfoMsg::TYPE,
            CameraInfoMsg {
                header: header(),
                height: 240,
                width: 320,
                distortion_model: "plumb_bob".into(),
                d: vec![0.0; 5],
                k: [300.0, 0.0, 160.0, 0.0, 300.0, 120.0, 0.0, 0.0, 1.0],
                r: [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0],
                p: [
                    300.0, 0.0, 160.0, 0.0, 0.0, 300.0, 120.0, 0.0, 0.0, 0.0, 1.0, 0.0,
                ],
                binning_x: 0,
                binning_y: 0,
                roi: RegionOfInterest {
                    x_offset: 1,
                    y_offset: 2,
                    height: 3,
                    width: 4,
                    do_rectify: true,
                },
            }
            .to_cdr(),
        ),
        (
            ImageMsg::TYPE,
            ImageMsg {
                header: header(),
                height: 2,
                width: 3,
                encoding: "rgb8".into(),
                is_bigendian: 0,
                step: 9,
                data: (0..18).collect(),
            }
            .to_cdr(),
        ),
        (Detection3DArrayMsg::TYPE, detections().to_cdr()),
    ]
}

pub(super) fn detections() -> Detection3DArrayMsg {
    let center = Pose {
        position: Point {
            x: 0.5,
            y: -0.1,
            z: 0.025,
        },
        orientation: Quaternion {
            x: 0.0,
            y: 0.0,
            z: 0.382_683_432_365_089_8,
            w: 0.923_879_532_511_286_7,
        },
    };
    let mut covariance = Covariance36::default();
    covariance.0[0] = 1e-4;
    covariance.0[35] = 0.01;
    Detection3DArrayMsg {
        header: header(),
        detections: vec![Detection3D {
            header: header(),
            results: vec![ObjectHypothesisWithPose {
                hypothesis: ObjectHypothesis {
                    class_id: "cube".into(),
                    score: 0.9,
                },
                pose: PoseWithCovariance {
                    pose: center,
                    covariance,
                },
            }],
            bbox: BoundingBox3D {
                center,
                size: Vector3Msg {
                    x: 0.05,
                    y: 0.05,
                    z: 0.05,
                },
            },
            id: "red_cube".into(),
        }],
    }
}

/// The bytes of `samples()`, in order, as hex (each with its 4-byte encapsulation header).
const GOLDEN: &[(&str, &str)] = &[
    ("sensor_msgs/msg/JointState", "000100000c000000590100000c00000070616e64615f6c696e6b3000020000000d00000070616e64615f6a6f696e743100000000030000006a32000002000000000000009a9999999999b93f9a9999999999c9bf02000000000000000000000000000000000000000000f83f00000000"),
    ("trajectory_msgs/msg/JointTrajectory", "000100000c000000590100000c00000070616e64615f6c696e6b300003000000020000006100000003000000626200000400000063636300020000000300000000000000000000000000f03f000000000000004000000000000008400300000000000000000000000000e03f000000000000e03f000000000000e03f0000000001000000000000000000f0bf0000000000127a000300000000000000000000000000f03f000000000000004000000000000008400300000000000000000000000000e03f000000000000e03f000000000000e03f0000000001000000000000000000f0bf0000000000127a00"),
    ("tf2_msgs/msg/TFMessage", "00010000020000000c000000590100000c00000070616e64615f6c696e6b3000100000006f626a6563742f7265645f63756265009a9999999999d93f9a9999999999b9bf9a9999999999993f0000000000000000000000000000000052b81e85eb51d83f713d0ad7a370ed3f000000000000000001000000000000000200000062000000000000000000f03f00000000000000400000000000000840000000000000000000000000000000000000000000000000000000000000f03f"),
    ("control_msgs/msg/GripperCommand", "000100007b14ae47e17aa43f0000000000003440"),
    ("std_msgs/msg/Bool", "0001000001"),
    ("std_msgs/msg/String", "00010000140000007b227374617465223a2272756e6e696e67227d00"),
    ("embody_msgs/srv/ComputeChunk_Request", "000100000800000070616e64612d3100070000009a999999999928400300000000000000000000000000e03f000000000000f4bf0000000000000840cdcccccccccc264003000000000000009a9999999999b93f9a9999999999b93f9a9999999999b93f020000000400000072746300"),
    ("embody_msgs/srv/ComputeChunk_Response", "000100009a999999999928400300000000000000000000000000d03f000000000000d03f000000000000d03f030000006e6f00000000000000002d40"),
    ("sensor_msgs/msg/CameraInfo", "000100000c000000590100000c00000070616e64615f6c696e6b3000f0000000400100000a000000706c756d625f626f620000000500000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000c072400000000000000000000000000000644000000000000000000000000000c072400000000000005e4000000000000000000000000000000000000000000000f03f000000000000f03f000000000000000000000000000000000000000000000000000000000000f03f000000000000000000000000000000000000000000000000000000000000f03f0000000000c0724000000000000000000000000000006440000000000000000000000000000000000000000000c072400000000000005e40000000000000000000000000000000000000000000000000000000000000f03f000000000000000000000000000000000100000002000000030000000400000001"),
    ("sensor_msgs/msg/Image", "000100000c000000590100000c00000070616e64615f6c696e6b300002000000030000000500000072676238000000000900000012000000000102030405060708090a0b0c0d0e0f1011"),
    ("vision_msgs/msg/Detection3DArray", "000100000c000000590100000c00000070616e64615f6c696e6b3000010000000c000000590100000c00000070616e64615f6c696e6b30000100000005000000637562650000000000000000cdccccccccccec3f000000000000e03f9a9999999999b9bf9a9999999999993f0000000000000000000000000000000063a9aea6e27dd83f468d32cf6b90ed3f2d431cebe2361a3f00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000007b14ae47e17a843f000000000000e03f9a9999999999b9bf9a9999999999993f0000000000000000000000000000000063a9aea6e27dd83f468d32cf6b90ed3f9a9999999999a93f9a9999999999a93f9a9999999999a93f090000007265645f6375626500"),
];

#[test]
fn every_message_keeps_its_bytes() {
    let samples = samples();
    assert_eq!(samples.len(), GOLDEN.len());
    for ((ty, bytes), (golden_ty, golden)) in samples.iter().zip(GOLDEN) {
        assert_eq!(ty, golden_ty);
        assert_eq!(&hex(bytes), golden, "{ty}");
    }
}

/// Decoding the pinned bytes and encoding the message again gives the same bytes.
fn reencode(ty: &str, b: &[u8]) -> Vec<u8> {
    fn again<M: RosMessage>(b: &[u8]) -> Vec<u8> {
        M::from_cdr(b)
            .unwrap_or_else(|e| panic!("{}: {e}", M::TYPE))
            .to_cdr()
    }
    match ty {
        JointStateMsg::TYPE => again::<JointStateMsg>(b),
        JointTrajectoryMsg::TYPE => again::<JointTrajectoryMsg>(b),
        TfMessage::TYPE => again::<TfMessage>(b),
        GripperCommandMsg::TYPE => again::<GripperCommandMsg>(b),
        BoolMsg::TYPE => again::<BoolMsg>(b),
        StringMsg::TYPE => again::<StringMsg>(b),
        ChunkRequestMsg::TYPE => again::<ChunkRequestMsg>(b),
        ChunkReplyMsg::TYPE => again::<ChunkReplyMsg>(b),
        CameraInfoMsg::TYPE => again::<CameraInfoMsg>(b),
        ImageMsg::TYPE => again::<ImageMsg>(b),
        Detection3DArrayMsg::TYPE => again::<Detection3DArrayMsg>(b),
        other => panic!("no sample decoder for {other}"),
    }
}

#[test]
fn every_pinned_message_decodes_to_the_same_bytes() {
    for (ty, golden) in GOLDEN {
        let bytes: Vec<u8> = (0..golden.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&golden[i..i + 2], 16).unwrap())
            .collect();
        assert_eq!(hex(&reencode(ty, &bytes)), *golden, "{ty}");
    }
}
