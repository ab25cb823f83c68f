//! Every input the fuzzers ever crashed, hung or ran out of memory on (`fuzz/regressions/<target>/`,
//! one file per input, committed), replayed through the same code the fuzz targets run
//! (`fuzz/entries.rs`). A regression here is a crash the fuzzers once found coming back.

#[allow(dead_code)]
#[path = "../fuzz/entries.rs"]
mod entries;

#[test]
fn every_kept_fuzz_input_ends_without_a_panic() {
    let root = entries::repo().join("fuzz/regressions");
    let mut replayed = 0;
    for (name, run) in entries::TARGETS {
        let dir = root.join(name);
        let Ok(files) = std::fs::read_dir(&dir) else {
            continue;
        };
        for f in files.flatten() {
            let data = std::fs::read(f.path()).unwrap();
            let started = std::time::Instant::now();
            run(&data);
            // A hang the fuzzer found must stay fixed: each input ends well inside a second
            // (libFuzzer's default timeout is 1200 s; ours in scripts/fuzz.sh is 10 s).
            assert!(
                started.elapsed().as_secs_f64() < 10.0,
                "{name}: {} took {:?}",
                f.path().display(),
                started.elapsed()
            );
            replayed += 1;
        }
    }
    println!("replayed {replayed} kept fuzz inputs");
}

/// The targets themselves on a few well-formed inputs (the seeds of their corpora).
#[test]
fn fuzz_targets_accept_their_seed_inputs() {
    let root = entries::repo();
    let seeds: &[(&str, &str)] = &[
        ("scenario", "scenarios/table_clearing_varied.toml"),
        ("urdf", "assets/robots/panda/panda.urdf"),
        ("model_meta", "policies/models/table_clearing.json"),
    ];
    for (name, file) in seeds {
        let data = std::fs::read(root.join(file)).unwrap();
        let run = entries::TARGETS.iter().find(|(n, _)| n == name).unwrap().1;
        run(&data);
    }
    entries::plan_answer(br#"{"steps": [{"pick": {"object": "red_cube"}}]}"#);
    entries::instruction(b"clear the table except the cup");
    entries::cdr(&[0, 0, 1, 0, 0]);
    entries::mcap(b"\x89MCAP0\r\n");
}
