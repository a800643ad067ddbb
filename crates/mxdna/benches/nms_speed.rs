//! Basic-unit NMS speed on the configuration (B = 32, L = 512, 10 experts of
//! kernels 1..10), and the input for the reference C++ run beside it.
//!
//! `cargo bench -p dnalm-mxdna --bench nms_speed -- DIR [REPEATS]` writes
//! `DIR/logits.f32` (seeded normal logits, row-major (B, L, N)), `DIR/ours.i32` (centre
//! then cover masks) and prints the median time of `basic_unit_nms`;
//! `benches/reference/nms_reference.py` then times the reference on the same file and
//! checks that its masks are ours. `benches/nms_vs_reference.sh` runs both.

use std::io::Write;
use std::time::Instant;

use dnalm_mxdna::nms::basic_unit_nms;
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};

const BATCH: usize = 32;
const STEPS: usize = 512;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let dir = std::path::PathBuf::from(args.first().expect("usage: nms_speed DIR [REPEATS]"));
    let repeats: usize = args
        .get(1)
        .map_or(200, |r| r.parse().expect("REPEATS is a number"));
    let kernels: Vec<usize> = (1..=10).collect();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let normal = Normal::new(0.0f32, 1.0).unwrap();
    let logits: Vec<f32> = (0..BATCH * STEPS * kernels.len())
        .map(|_| normal.sample(&mut rng))
        .collect();
    let lengths = vec![STEPS; BATCH];
    let mut times = Vec::with_capacity(repeats);
    let mut units = None;
    for _ in 0..repeats {
        let started = Instant::now();
        units = Some(basic_unit_nms(&logits, STEPS, &kernels, &lengths).unwrap());
        times.push(started.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let units = units.unwrap();
    std::fs::create_dir_all(&dir).unwrap();
    let bytes: Vec<u8> = logits.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(dir.join("logits.f32"), bytes).unwrap();
    let mut out = std::fs::File::create(dir.join("ours.i32")).unwrap();
    for value in units.centre.iter().chain(&units.cover) {
        out.write_all(&value.to_le_bytes()).unwrap();
    }
    let units_taken = units.centre.iter().filter(|&&c| c >= 0).count();
    println!(
        "dnalm basic_unit_nms  B={BATCH} L={STEPS} N={}  threads={}  median {:.3} ms  ({} units, {:.2} nt per unit)",
        kernels.len(),
        rayon::current_num_threads(),
        times[times.len() / 2] * 1e3,
        units_taken,
        units.cover.iter().filter(|&&c| c >= 0).count() as f64 / units_taken as f64
    );
}
