//! The authors' checkpoint folders, made by the reference PyTorch code itself
//! (`tests/data/make_checkpoint_fixtures.py`): every way of saving them loads through
//! the public loader and gives the reference's basic units exactly and its logits within
//! 1e-4; an export is tensor-for-tensor the reference's own file; damaged folders are
//! clear errors.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use candle_core::{Device, Tensor};
use dnalm_mxdna::encoder_input::EncoderInput;
use dnalm_mxdna::pretrained::MxDnaLm;
use dnalm_mxdna::reference_checkpoint::ReferenceNaming;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/checkpoints")
}

fn io() -> std::collections::HashMap<String, Tensor> {
    candle_core::safetensors::load(fixtures().join("io.safetensors"), &Device::Cpu).unwrap()
}

fn ints(tensor: &Tensor) -> Vec<i64> {
    tensor.flatten_all().unwrap().to_vec1().unwrap()
}

/// The units' centres and the worst logit difference against `reference_logits`.
fn compare(model: &MxDnaLm, reference_logits: &str) -> (Vec<i64>, f32) {
    let io = io();
    let ids: Vec<Vec<i64>> = io["input_ids"].to_vec2().unwrap();
    let lengths: Vec<usize> = ints(&io["lengths"]).iter().map(|&l| l as usize).collect();
    let rows = Tensor::new(
        ids.iter()
            .map(|row| row.iter().map(|&id| id as u32).collect::<Vec<_>>())
            .collect::<Vec<_>>(),
        &Device::Cpu,
    )
    .unwrap();
    let input = EncoderInput::from_rows(&rows).unwrap();
    let encoded = model
        .network()
        .encoder()
        .encode(&input.ids, &input.lengths, &input.special, None)
        .unwrap();
    let steps = ids[0].len();
    let positions: Vec<u32> = (0..ids.len())
        .flat_map(|b| (0..lengths[b]).map(move |p| (b * steps + p) as u32))
        .collect();
    let ours: Vec<Vec<f32>> = model
        .network()
        .logits_at(&encoded, &Arc::new(positions.clone()))
        .unwrap()
        .to_vec2()
        .unwrap();
    let reference: Vec<Vec<Vec<f32>>> = io[reference_logits].to_vec3().unwrap();
    let mut worst = 0f32;
    for (row, &p) in ours.iter().zip(&positions) {
        let (b, t) = (p as usize / steps, p as usize % steps);
        for (x, y) in row.iter().zip(&reference[b][t]) {
            worst = worst.max((x - y).abs());
        }
    }
    let centre = encoded
        .tokenized
        .units
        .centre
        .iter()
        .map(|&c| i64::from(c))
        .collect();
    (centre, worst)
}

#[test]
fn every_saved_form_loads_with_the_reference_units_and_logits() {
    let reference_centre = ints(&io()["centre"]);
    for (folder, logits) in [
        ("full_model_safetensors", "logits_full_model"),
        ("full_model_bin", "logits_full_model"),
        ("full_model_sharded", "logits_full_model"),
        ("full_model_bf16", "logits_bf16"),
        ("ad3808d_safetensors", "logits_ad3808d"),
        ("ad3808d_bin", "logits_ad3808d"),
    ] {
        let model = MxDnaLm::load(&fixtures().join(folder), &Device::Cpu)
            .unwrap_or_else(|err| panic!("{folder}: {err}"));
        let (centre, worst) = compare(&model, logits);
        assert_eq!(centre, reference_centre, "{folder}: unit centres");
        assert!(
            worst < 1e-4,
            "{folder}: logits {worst} from the reference's"
        );
        assert!(model.unknown_config_fields().is_empty(), "{folder}");
    }
    // The expert epsilon is read from the naming: the full-model branch's 1e-5 is not
    // ad3808d's 1e-6, and these logits tell them apart.
    let full = MxDnaLm::load(&fixtures().join("full_model_safetensors"), &Device::Cpu).unwrap();
    let (_, against_other_eps) = compare(&full, "logits_ad3808d");
    let (_, against_own_eps) = compare(&full, "logits_full_model");
    assert!(
        against_other_eps > 4.0 * against_own_eps,
        "{against_other_eps} vs {against_own_eps}"
    );
}

fn copy_folder(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

fn tensors(path: &Path) -> Vec<(String, Vec<u8>, Vec<usize>)> {
    let bytes = std::fs::read(path).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut named: Vec<(String, Vec<u8>, Vec<usize>)> = file
        .tensors()
        .into_iter()
        .map(|(name, view)| (name, view.data().to_vec(), view.shape().to_vec()))
        .collect();
    named.sort();
    named
}

#[test]
fn an_export_is_the_reference_s_own_tensors_under_either_naming() {
    let dir = tempfile::tempdir().unwrap();
    let model = MxDnaLm::load(&fixtures().join("ad3808d_safetensors"), &Device::Cpu).unwrap();
    for (naming, original) in [
        (ReferenceNaming::FullModel, "full_model_safetensors"),
        (ReferenceNaming::Ad3808d, "ad3808d_safetensors"),
    ] {
        let out = dir.path().join(format!("{naming:?}"));
        model.export(&out, naming).unwrap();
        assert_eq!(
            tensors(&out.join("model.safetensors")),
            tensors(&fixtures().join(original).join("model.safetensors")),
            "{naming:?}"
        );
        let again = MxDnaLm::load(&out, &Device::Cpu).unwrap();
        assert_eq!(
            compare(&again, "logits_ad3808d"),
            compare(&model, "logits_ad3808d")
        );
        assert!(model
            .export(&out, naming)
            .unwrap_err()
            .to_string()
            .contains("already exists"));
    }
    // What the reference code made of dnalm's export (make_export_roundtrip.py).
    let text = std::fs::read_to_string(fixtures().join("roundtrip.json")).unwrap();
    let record: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(
        record["max_logit_difference"].as_f64().unwrap() < 1e-4,
        "{record}"
    );
    assert_eq!(record["units_identical"], true);
}

#[test]
fn a_fine_tuned_mxdna_exports_as_the_reference_classifier() {
    use dnalm_mxdna::classifier::{MxDnaClassifier, MxDnaClassifierConfig};
    use dnalm_nn::supervised::Objective;
    let dir = tempfile::tempdir().unwrap();
    let mxdna = MxDnaLm::load(&fixtures().join("ad3808d_safetensors"), &Device::Cpu)
        .unwrap()
        .network()
        .config()
        .clone();
    let config = MxDnaClassifierConfig {
        mxdna,
        dropout: 0.1,
        objective: Objective::Classification {
            labels: vec!["neg".into(), "pos".into()],
        },
    };
    let model = MxDnaClassifier::new(config, 1, &Device::Cpu).unwrap();
    let out = dir.path().join("classifier");
    model.export(&out, ReferenceNaming::FullModel).unwrap();
    let names: Vec<String> = tensors(&out.join("model.safetensors"))
        .into_iter()
        .map(|(name, _, _)| name)
        .collect();
    for expected in [
        "norm.norm.weight",
        "task_head.dense.weight",
        "task_head.out_proj.bias",
        "model.token_layers.0.ffn.ffn.w1.weight",
    ] {
        assert!(names.iter().any(|n| n == expected), "missing {expected}");
    }
    assert!(!names.iter().any(|n| n.starts_with("classifier.")));
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["architectures"][0], "MxDNAForSequenceClassification");
    assert_eq!(config["num_labels"], 2);
    assert_eq!(config["id2label"]["1"], "pos");
    // What the reference's MxDNAForSequenceClassification made of a dnalm export
    // (make_classifier_roundtrip.py): the class probabilities of `dnalm predict`.
    let text = std::fs::read_to_string(fixtures().join("classifier_roundtrip.json")).unwrap();
    let record: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(
        record["max_probability_difference"].as_f64().unwrap() < 1e-4,
        "{record}"
    );
}

#[test]
fn damaged_folders_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let broken = |name: &str, from: &str| {
        let path = dir.path().join(name);
        copy_folder(&fixtures().join(from), &path);
        path
    };
    let load_error = |path: &Path| MxDnaLm::load(path, &Device::Cpu).err().unwrap().to_string();

    let truncated = broken("truncated", "full_model_bin");
    let bin = truncated.join("pytorch_model.bin");
    let bytes = std::fs::read(&bin).unwrap();
    std::fs::write(&bin, &bytes[..bytes.len() / 2]).unwrap();
    let err = load_error(&truncated);
    assert!(err.contains("pytorch_model.bin"), "{err}");

    let header = broken("header", "full_model_safetensors");
    let file = header.join("model.safetensors");
    let mut bytes = std::fs::read(&file).unwrap();
    bytes[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    std::fs::write(&file, &bytes).unwrap();
    let err = load_error(&header);
    assert!(err.contains("does not fit the file"), "{err}");

    let shapes = broken("shapes", "full_model_safetensors");
    let config = shapes.join("config.json");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("\"intermediate_size\": 32", "\"intermediate_size\": 48"),
    )
    .unwrap();
    let err = load_error(&shapes);
    assert!(
        err.contains(
            "tensor decoder.ffn.ffn.w1.weight has shape [32, 16]; the config makes it [48, 16]"
        ),
        "{err}"
    );

    let missing = broken("missing", "full_model_safetensors");
    let config = missing.join("config.json");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace("\"hidden_size\": 16,", "")).unwrap();
    let err = load_error(&missing);
    assert!(err.contains("missing field `hidden_size`"), "{err}");

    let unknown = broken("unknown", "full_model_safetensors");
    let config = unknown.join("config.json");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replacen('{', "{\"my_field\": 7,", 1)).unwrap();
    let model = MxDnaLm::load(&unknown, &Device::Cpu).unwrap();
    assert_eq!(model.unknown_config_fields(), ["my_field"]);
    // Kept: an export writes it back, beside the original's own fields.
    model
        .export(&dir.path().join("kept"), ReferenceNaming::FullModel)
        .unwrap();
    let text = std::fs::read_to_string(dir.path().join("kept/config.json")).unwrap();
    let written: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(written["my_field"], 7);
    assert_eq!(written["transformers_version"], "5.24.0");

    let foreign = broken("foreign", "full_model_safetensors");
    let weights =
        candle_core::safetensors::load(foreign.join("model.safetensors"), &Device::Cpu).unwrap();
    let mut renamed: Vec<(String, Tensor)> = weights
        .into_iter()
        .map(|(name, t)| {
            (
                name.replace("token_layers", "blocks")
                    .replace("grouped_conv", "conv"),
                t,
            )
        })
        .collect();
    renamed.sort_by(|a, b| a.0.cmp(&b.0));
    candle_core::safetensors::save(
        &renamed.into_iter().collect(),
        foreign.join("model.safetensors"),
    )
    .unwrap();
    let err = load_error(&foreign);
    assert!(err.contains("not MxDNA's"), "{err}");

    let evil = broken("evil", "full_model_bin");
    std::fs::copy(
        fixtures().join("../pickle_unknown_class.bin"),
        evil.join("pytorch_model.bin"),
    )
    .unwrap();
    let err = load_error(&evil);
    assert!(err.contains("pytorch_model.bin"), "{err}");
}
