//! Our basic-unit NMS against the reference C++ (fixture made by
//! `tests/data/make_nms_fixture.py` from BasicUnitNMS.cpp).

use candle_core::Device;
use dnalm_mxdna::nms::basic_unit_nms;

fn check(name: &str) -> (usize, usize) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/nms_reference.safetensors"
    );
    let fixture = candle_core::safetensors::load(path, &Device::Cpu).unwrap();
    let logits = &fixture[&format!("{name}.logits")];
    let (_, steps, experts) = logits.dims3().unwrap();
    let lengths: Vec<usize> = fixture["lengths"]
        .to_vec1::<i64>()
        .unwrap()
        .into_iter()
        .map(|l| l as usize)
        .collect();
    let kernels: Vec<usize> = (1..=experts).collect();
    let flat: Vec<f32> = logits.flatten_all().unwrap().to_vec1().unwrap();
    let ours = basic_unit_nms(&flat, steps, &kernels, &lengths).unwrap();
    let expected = |key: &str| -> Vec<i32> {
        fixture[&format!("{name}.{key}")]
            .flatten_all()
            .unwrap()
            .to_vec1::<i64>()
            .unwrap()
            .into_iter()
            .map(|v| v as i32)
            .collect()
    };
    let (centre, cover) = (expected("centre"), expected("cover"));
    let differ = |a: &[i32], b: &[i32]| a.iter().zip(b).filter(|(x, y)| x != y).count();
    (differ(&ours.centre, &centre), differ(&ours.cover, &cover))
}

#[test]
fn identical_to_the_reference_on_continuous_logits() {
    assert_eq!(check("continuous"), (0, 0));
}

#[test]
fn identical_to_the_reference_with_many_ties() {
    assert_eq!(check("ties"), (0, 0));
}
