//! Build facts a log records so a replay can tell whether it runs the same physics: the
//! physics crates' resolved versions (from Cargo.lock), the target, and the git commit.

use std::path::Path;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let lock = root.join("Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    let text = std::fs::read_to_string(&lock).unwrap_or_default();
    let version = |name: &str| -> String {
        // [[package]] blocks: name = "..." then version = "...".
        let mut lines = text.lines();
        while let Some(l) = lines.next() {
            if l.trim() == format!("name = \"{name}\"") {
                if let Some(v) = lines
                    .next()
                    .and_then(|v| v.trim().strip_prefix("version = "))
                {
                    return v.trim_matches('"').to_string();
                }
            }
        }
        "?".into()
    };
    println!(
        "cargo:rustc-env=EMBODY_PHYSICS=rapier3d {} + parry3d {} + nalgebra {} (f32, dim3)",
        version("rapier3d"),
        version("parry3d"),
        version("nalgebra")
    );
    println!(
        "cargo:rustc-env=EMBODY_TARGET={}",
        std::env::var("TARGET").unwrap_or_default()
    );
    // The commit: HEAD and the branch it points at (a commit moves the branch, not HEAD).
    let git = root.join(".git");
    let head = git.join("HEAD");
    let mut commit = String::new();
    if let Ok(h) = std::fs::read_to_string(&head) {
        println!("cargo:rerun-if-changed={}", head.display());
        match h.trim().strip_prefix("ref: ") {
            Some(r) => {
                let branch = git.join(r);
                println!("cargo:rerun-if-changed={}", branch.display());
                commit = std::fs::read_to_string(&branch)
                    .map(|c| c.trim().to_string())
                    .unwrap_or_else(|_| packed_ref(&git, r));
            }
            None => commit = h.trim().to_string(),
        }
    }
    println!("cargo:rustc-env=EMBODY_GIT_COMMIT={commit}");
}

/// A ref's commit from `.git/packed-refs` (fresh clones keep their refs there).
fn packed_ref(git: &Path, name: &str) -> String {
    let packed = git.join("packed-refs");
    println!("cargo:rerun-if-changed={}", packed.display());
    std::fs::read_to_string(packed)
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            let (sha, r) = l.split_once(' ')?;
            (r == name).then(|| sha.to_string())
        })
        .unwrap_or_default()
}
