//! The authors' checkpoint folders, in and out: a Hugging Face-style folder with
//! `config.json` (the reference's `MxDNAConfig` fields) and the weights as
//! `model.safetensors`, `pytorch_model.bin` (PyTorch's zip + pickle format, read by
//! candle's pickle reader, which interprets the pickle without running any of it), or
//! either sharded with an `.index.json`. Both parameter-name variants are read, told
//! apart by the names: commit ad3808d's (`motif_layers`, `depthwise_conv`, `norm.norm`;
//! expert LayerNorm eps 1e-6, dnalm's own names) and the `full-model` branch's
//! (`token_layers`, `grouped_conv`, plain `norm`; eps 1e-5). bf16/f16 weights become
//! f32. Export writes a dnalm MxDNA as such a folder, under either naming.

use crate::pytorch_file::read_pytorch_file;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use serde_json::{Map, Value};

use crate::config::{MxDnaConfig, AD3808D_EXPERT_EPS, FULL_MODEL_EXPERT_EPS};
use crate::error::{MxDnaError, Result};

/// Which of the reference's versions named the parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferenceNaming {
    /// Commit ad3808d, whose weights the authors released (dnalm's own names).
    Ad3808d,
    /// The `full-model` branch.
    FullModel,
}

/// `(full-model, ad3808d)` pieces of parameter names; the expert norms' `.norm.` ->
/// `.norm.norm.` is the one rename that needs its context (see [`ReferenceNaming`]).
const FULL_MODEL_PIECES: [(&str, &str); 5] = [
    ("model.token_layers.", "model.motif_layers."),
    (
        "basic_unit_masked_token_embedding",
        "motif_masked_token_embedding",
    ),
    (
        "conversion_layer.input_layernorm.",
        "conversion_layer.input_layernorm.norm.",
    ),
    (
        "deform_conv.input_layernorm.",
        "deform_conv.input_layernorm.norm.",
    ),
    (".grouped_conv.", ".depthwise_conv."),
];

impl ReferenceNaming {
    /// The naming of a set of parameter names, or `None` when it has neither's marks.
    pub fn detect<'a>(mut names: impl Iterator<Item = &'a str>) -> Option<Self> {
        names.find_map(|name| {
            if name.contains(".token_layers.") || name.contains(".grouped_conv.") {
                Some(Self::FullModel)
            } else if name.contains(".motif_layers.") || name.contains(".depthwise_conv.") {
                Some(Self::Ad3808d)
            } else {
                None
            }
        })
    }

    /// The expert LayerNorm epsilon of this version.
    pub fn expert_eps(self) -> f64 {
        match self {
            Self::Ad3808d => AD3808D_EXPERT_EPS,
            Self::FullModel => FULL_MODEL_EXPERT_EPS,
        }
    }

    /// A parameter name of this version as dnalm names it.
    pub fn to_dnalm(self, name: &str) -> String {
        if self == Self::Ad3808d {
            return name.to_string();
        }
        let mut name = FULL_MODEL_PIECES
            .iter()
            .fold(name.to_string(), |n, (full, ad)| n.replace(full, ad));
        if name.contains(".conv_moe.experts.")
            && name.contains(".norm.")
            && !name.contains(".norm.norm.")
        {
            name = name.replace(".norm.", ".norm.norm.");
        }
        name
    }

    /// A dnalm parameter name as this version names it.
    pub fn from_dnalm(self, name: &str) -> String {
        if self == Self::Ad3808d {
            return name.to_string();
        }
        let mut name = name.to_string();
        if name.contains(".conv_moe.experts.") {
            name = name.replace(".norm.norm.", ".norm.");
        }
        FULL_MODEL_PIECES
            .iter()
            .fold(name, |n, (full, ad)| n.replace(ad, full))
    }
}

/// `config.json` fields of the reference's configuration that dnalm does not model
/// (Hugging Face bookkeeping, or values fixed in MxDNA); they are kept, and checked
/// where they could contradict the model.
const KNOWN_FIELDS: [&str; 26] = [
    "architectures",
    "model_type",
    "dtype",
    "torch_dtype",
    "transformers_version",
    "_name_or_path",
    "auto_map",
    "pad_token_id",
    "unk_token_id",
    "cls_token_id",
    "sep_token_id",
    "mask_token_id",
    "bos_token_id",
    "eos_token_id",
    "hidden_act",
    "attention_dropout",
    "max_position_embeddings",
    "num_key_value_heads",
    "num_local_experts",
    "num_experts_per_tok",
    "num_motif_groups",
    "output_router_logits",
    "num_labels",
    "id2label",
    "label2id",
    "problem_type",
];

/// The fields of [`MxDnaConfig`], as the reference names them.
const MODEL_FIELDS: [&str; 14] = [
    "vocab_size",
    "hidden_size",
    "num_attention_heads",
    "intermediate_size",
    "num_hidden_layers",
    "conversion_layer_idx",
    "expert_kernel_sizes",
    "deformable_conv_kernel_size",
    "router_jitter_noise",
    "router_aux_loss_coef",
    "layer_norm_eps",
    "rope_theta",
    "initializer_range",
    "expert_layer_norm_eps",
];

/// An authors' checkpoint folder read into dnalm's terms.
pub struct ReferenceCheckpoint {
    /// The sizes (the expert epsilon from the config, else from the naming).
    pub config: MxDnaConfig,
    /// Which version named the weights.
    pub naming: ReferenceNaming,
    /// The weights under dnalm's names, f32.
    pub weights: HashMap<String, Tensor>,
    /// `config.json` fields dnalm neither models nor knows (kept, and reported).
    pub unknown_fields: Vec<String>,
    /// Every `config.json` field that is not one of [`MxDnaConfig`]'s, as read (an
    /// export writes them back).
    pub other_fields: Map<String, Value>,
}

/// Whether `dir` is an authors' (Hugging Face-style) MxDNA folder rather than a dnalm
/// run: its `config.json` has `"model_type": "mxdna"` and no dnalm `"model"` tag.
pub fn is_reference_folder(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("config.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<Value>(&text).ok())
        .is_some_and(|config| config.get("model").is_none() && config["model_type"] == "mxdna")
}

fn error(path: &Path, message: impl std::fmt::Display) -> MxDnaError {
    MxDnaError::Checkpoint {
        path: path.to_path_buf(),
        message: message.to_string(),
    }
}

impl ReferenceCheckpoint {
    /// Reads a folder: weights first (their names tell the naming), then `config.json`.
    pub fn read(dir: &Path, device: &Device) -> Result<Self> {
        let raw = read_weights(dir, device)?;
        let naming = ReferenceNaming::detect(raw.keys().map(String::as_str)).ok_or_else(|| {
            error(
                dir,
                "the weights are not MxDNA's: no motif_layers/token_layers or expert \
                 convolutions among them",
            )
        })?;
        let config_path = dir.join("config.json");
        let text = std::fs::read_to_string(&config_path).map_err(|err| error(&config_path, err))?;
        let mut fields: Map<String, Value> = serde_json::from_str(&text)
            .map_err(|err| error(&config_path, format!("not a JSON object: {err}")))?;
        fields
            .entry("expert_layer_norm_eps")
            .or_insert_with(|| naming.expert_eps().into());
        let unknown_fields = fields
            .keys()
            .filter(|k| !MODEL_FIELDS.contains(&k.as_str()) && !KNOWN_FIELDS.contains(&k.as_str()))
            .cloned()
            .collect();
        check_fixed_fields(&fields, &config_path)?;
        let (model_fields, other_fields): (Map<String, Value>, Map<String, Value>) = fields
            .into_iter()
            .partition(|(k, _)| MODEL_FIELDS.contains(&k.as_str()));
        let config: MxDnaConfig = serde_json::from_value(Value::Object(model_fields))
            .map_err(|err| error(&config_path, err))?;
        config.check().map_err(|err| error(&config_path, err))?;
        let weights = raw
            .into_iter()
            .map(|(name, tensor)| Ok((naming.to_dnalm(&name), tensor.to_dtype(DType::F32)?)))
            .collect::<Result<_>>()?;
        Ok(Self {
            config,
            naming,
            weights,
            unknown_fields,
            other_fields,
        })
    }
}

/// Refuses values of fields dnalm does not model that would make a different model.
fn check_fixed_fields(fields: &Map<String, Value>, path: &Path) -> Result<()> {
    let number = |key: &str| fields.get(key).and_then(Value::as_u64);
    if let (Some(kv), Some(heads)) = (number("num_key_value_heads"), number("num_attention_heads"))
    {
        if kv != heads {
            return Err(error(
                path,
                format!("num_key_value_heads {kv} differs from num_attention_heads {heads}: grouped KV heads are not supported"),
            ));
        }
    }
    if let (Some(experts), Some(kernels)) = (
        number("num_local_experts"),
        fields.get("expert_kernel_sizes").and_then(Value::as_array),
    ) {
        if experts as usize != kernels.len() {
            return Err(error(
                path,
                format!(
                    "num_local_experts {experts} but {} expert_kernel_sizes",
                    kernels.len()
                ),
            ));
        }
    }
    if let Some(groups) = number("num_motif_groups").filter(|&g| g != 1) {
        return Err(error(
            path,
            format!("num_motif_groups {groups}: only 1 is supported"),
        ));
    }
    if let Some(act) = fields
        .get("hidden_act")
        .and_then(Value::as_str)
        .filter(|&a| a != "silu")
    {
        return Err(error(
            path,
            format!("hidden_act \"{act}\": MxDNA's FFN is SwiGLU (silu)"),
        ));
    }
    Ok(())
}

/// The weight files of a folder, in the order they are looked for.
const WEIGHT_FILES: [&str; 4] = [
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
];

/// The folder's weights under their own names, in their own dtype.
fn read_weights(dir: &Path, device: &Device) -> Result<HashMap<String, Tensor>> {
    let Some(file) = WEIGHT_FILES
        .iter()
        .map(|f| dir.join(f))
        .find(|p| p.is_file())
    else {
        return Err(error(
            dir,
            format!("no weights: none of {}", WEIGHT_FILES.join(", ")),
        ));
    };
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    if name.ends_with(".index.json") {
        let mut weights = HashMap::new();
        for shard in shards(&file)? {
            weights.extend(read_weight_file(&shard, device)?);
        }
        return Ok(weights);
    }
    read_weight_file(&file, device)
}

/// The shard files an index names (each once, in order).
fn shards(index: &Path) -> Result<Vec<PathBuf>> {
    let text = std::fs::read_to_string(index).map_err(|err| error(index, err))?;
    let value: Value = serde_json::from_str(&text).map_err(|err| error(index, err))?;
    let map = value["weight_map"]
        .as_object()
        .ok_or_else(|| error(index, "no \"weight_map\" object"))?;
    let mut files: Vec<&str> = map.values().filter_map(Value::as_str).collect();
    files.sort_unstable();
    files.dedup();
    let dir = index.parent().unwrap_or(Path::new("."));
    files
        .into_iter()
        .map(|file| {
            if file.contains('/') || file.contains("..") {
                return Err(error(
                    index,
                    format!("shard '{file}' is not a file of the folder"),
                ));
            }
            Ok(dir.join(file))
        })
        .collect()
}

/// One safetensors or PyTorch file.
fn read_weight_file(path: &Path, device: &Device) -> Result<HashMap<String, Tensor>> {
    if path.extension().is_some_and(|e| e == "safetensors") {
        return read_safetensors(path, device);
    }
    let tensors = read_pytorch_file(path).map_err(|err| error(path, err))?;
    if tensors.is_empty() {
        return Err(error(path, "no tensors in this PyTorch file"));
    }
    tensors
        .into_iter()
        .map(|(name, tensor)| Ok((name, tensor.to_device(device)?)))
        .collect()
}

/// The largest safetensors header read (the format's own limit is 100 MB).
const MAX_HEADER_BYTES: u64 = 100 << 20;

/// A safetensors file read tensor by tensor into the tensors' own storage: the file is
/// never held whole in memory beside its tensors (candle's `safetensors::load` reads it
/// whole first, so a load peaks at twice the file), and every size and offset from the
/// header is checked against the file before anything is allocated from it.
fn read_safetensors(path: &Path, device: &Device) -> Result<HashMap<String, Tensor>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(path).map_err(|err| error(path, err))?;
    let file_len = file.metadata().map_err(|err| error(path, err))?.len();
    let mut len_bytes = [0u8; 8];
    file.read_exact(&mut len_bytes)
        .map_err(|err| error(path, format!("not a safetensors file: {err}")))?;
    let header_len = u64::from_le_bytes(len_bytes);
    if header_len > MAX_HEADER_BYTES || 8 + header_len > file_len {
        return Err(error(
            path,
            format!("header of {header_len} bytes does not fit the file"),
        ));
    }
    let mut header = vec![0u8; header_len as usize];
    file.read_exact(&mut header)
        .map_err(|err| error(path, err))?;
    let header: Map<String, Value> = serde_json::from_slice(&header)
        .map_err(|err| error(path, format!("header is not JSON: {err}")))?;
    let data_start = 8 + header_len;
    let mut weights = HashMap::with_capacity(header.len());
    for (name, info) in &header {
        if name == "__metadata__" {
            continue;
        }
        let bad = |what: &str| error(path, format!("tensor {name}: {what}"));
        let dtype = match info["dtype"].as_str() {
            Some("F32") => DType::F32,
            Some("F16") => DType::F16,
            Some("BF16") => DType::BF16,
            Some("F64") => DType::F64,
            other => return Err(bad(&format!("dtype {other:?} is not a float type"))),
        };
        let shape: Vec<usize> = info["shape"]
            .as_array()
            .and_then(|dims| {
                dims.iter()
                    .map(|d| d.as_u64().map(|d| d as usize))
                    .collect()
            })
            .ok_or_else(|| bad("no shape"))?;
        let offsets: Vec<u64> = info["data_offsets"]
            .as_array()
            .and_then(|o| o.iter().map(Value::as_u64).collect())
            .filter(|o: &Vec<u64>| o.len() == 2 && o[0] <= o[1])
            .ok_or_else(|| bad("no data_offsets"))?;
        let bytes = offsets[1] - offsets[0];
        let elements = shape
            .iter()
            .try_fold(1u64, |n, &d| n.checked_mul(d as u64))
            .ok_or_else(|| bad("shape overflows"))?;
        if elements * dtype.size_in_bytes() as u64 != bytes || data_start + offsets[1] > file_len {
            return Err(bad("shape, dtype and data_offsets disagree with the file"));
        }
        file.seek(SeekFrom::Start(data_start + offsets[0]))
            .map_err(|err| error(path, err))?;
        let mut data = vec![0u8; bytes as usize];
        file.read_exact(&mut data).map_err(|err| error(path, err))?;
        let tensor = Tensor::from_raw_buffer(&data, dtype, &shape, device)?;
        weights.insert(name.clone(), tensor);
    }
    Ok(weights)
}

/// Checks `weights` against the names and shapes `expected` by the model, in name
/// order, so that the first offending tensor is named.
pub fn check_weights(
    weights: &HashMap<String, Tensor>,
    expected: &BTreeMap<String, Vec<usize>>,
    dir: &Path,
) -> Result<()> {
    let mut names: Vec<&String> = weights.keys().collect();
    names.sort();
    for name in names {
        match expected.get(name) {
            None => {
                return Err(error(
                    dir,
                    format!("tensor {name} is not part of MxDNAForMaskedLM"),
                ))
            }
            Some(shape) if weights[name].dims() != shape.as_slice() => {
                return Err(error(
                    dir,
                    format!(
                        "tensor {name} has shape {:?}; the config makes it {shape:?}",
                        weights[name].dims()
                    ),
                ))
            }
            Some(_) => {}
        }
    }
    if let Some(missing) = expected.keys().find(|name| !weights.contains_key(*name)) {
        return Err(error(dir, format!("tensor {missing} is missing")));
    }
    Ok(())
}

/// The `config.json` of an export: the model's fields under the reference's names, the
/// fields the reference's configuration class needs (for `MxDNAForMaskedLM`), then
/// `overrides` (another architecture's fields) in their place.
pub fn reference_config(config: &MxDnaConfig, overrides: &Map<String, Value>) -> Result<Value> {
    let mut fields =
        match serde_json::to_value(config).map_err(|err| error(Path::new("config.json"), err))? {
            Value::Object(fields) => fields,
            _ => Map::new(),
        };
    let defaults = serde_json::json!({
        "architectures": ["MxDNAForMaskedLM"],
        "model_type": "mxdna",
        "torch_dtype": "float32",
        "pad_token_id": 0, "unk_token_id": 1, "cls_token_id": 2, "sep_token_id": 3,
        "mask_token_id": 4,
        "hidden_act": "silu",
        "attention_dropout": 0.0,
        "max_position_embeddings": 2048,
        "num_key_value_heads": config.num_attention_heads,
        "num_local_experts": config.expert_kernel_sizes.len(),
        "num_experts_per_tok": 1,
        "num_motif_groups": 1,
    });
    for (key, value) in defaults.as_object().into_iter().flatten() {
        fields.entry(key.clone()).or_insert_with(|| value.clone());
    }
    fields.extend(overrides.clone());
    Ok(Value::Object(fields))
}

/// Writes `weights` (already under the reference's names) and `config` (with
/// `overrides`, see [`reference_config`]; the expert epsilon stays the model's, in the
/// `expert_layer_norm_eps` field) as an authors' folder at `out`: `config.json` and
/// `model.safetensors`, written into `OUT.partial` and renamed into place, so `out`
/// appears whole or not at all.
pub fn write_reference_folder(
    config: &MxDnaConfig,
    overrides: &Map<String, Value>,
    mut named: Vec<(String, Tensor)>,
    out: &Path,
) -> Result<()> {
    if out.exists() {
        return Err(error(out, "already exists; remove it or export elsewhere"));
    }
    let partial = PathBuf::from(format!("{}.partial", out.display()));
    if partial.exists() {
        std::fs::remove_dir_all(&partial).map_err(|err| error(&partial, err))?;
    }
    std::fs::create_dir_all(&partial).map_err(|err| error(&partial, err))?;
    named.sort_by(|a, b| a.0.cmp(&b.0));
    let metadata = HashMap::from([("format".to_string(), "pt".to_string())]);
    let bytes =
        safetensors::tensor::serialize(named, Some(metadata)).map_err(|err| error(out, err))?;
    let config_text = serde_json::to_string_pretty(&reference_config(config, overrides)?)
        .map_err(|err| error(out, err))?;
    for (file, contents) in [
        ("model.safetensors", &bytes[..]),
        ("config.json", config_text.as_bytes()),
    ] {
        let path = partial.join(file);
        dnalm_seq::atomic::write_atomic(&path, |w| w.write_all(contents))
            .map_err(|err| error(&path, err))?;
    }
    std::fs::rename(&partial, out).map_err(|err| error(out, err))
}
