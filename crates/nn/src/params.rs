//! Named model parameters, initialised from a seed (candle cannot seed its CPU
//! generator, so initial values come from our ChaCha8 generator: the same seed gives the
//! same model on every platform).

use std::collections::{BTreeMap, HashMap};

use candle_core::{DType, Device, Result, Tensor, Var};
use dnalm_seq::SeededRng;
use rand::Rng;
use rand_distr::{Distribution, Normal};

/// Parameters by name, in name order: trainable variables, or (a frozen store, for
/// inference) the given weights as plain tensors.
#[derive(Debug)]
pub struct ParamStore {
    vars: BTreeMap<String, Var>,
    frozen: BTreeMap<String, Tensor>,
    given: Option<HashMap<String, Tensor>>,
    rng: SeededRng,
    device: Device,
}

impl ParamStore {
    /// An empty store whose initialisers draw from `seed`.
    pub fn new(seed: u64, device: &Device) -> Self {
        Self {
            vars: BTreeMap::new(),
            frozen: BTreeMap::new(),
            given: None,
            rng: dnalm_seq::seeded_rng(seed),
            device: device.clone(),
        }
    }

    /// A store whose parameters are `weights`, as plain tensors, for inference: a model
    /// built on it calls the same initialisers, and each takes its tensor from `weights`
    /// by name (shape checked) instead of drawing one. Nothing is drawn, the weights are
    /// not copied (f32 on `device` stays as it is), and a forward pass keeps no autograd
    /// graph, since no parameter is a variable. [`ParamStore::finish`] then refuses
    /// weights the model did not take.
    pub fn frozen(weights: HashMap<String, Tensor>, device: &Device) -> Self {
        Self {
            given: Some(weights),
            ..Self::new(0, device)
        }
    }

    /// For a frozen store, once the model is built: every given weight was taken.
    pub fn finish(&self) -> Result<()> {
        if let Some(extra) = self.given.iter().flat_map(|given| given.keys()).min() {
            candle_core::bail!("saved weights have {extra}, which this model does not");
        }
        Ok(())
    }

    /// The given weight `name` of a frozen store (`None` for a trainable one).
    fn take_given(&mut self, name: &str, shape: &[usize]) -> Result<Option<Tensor>> {
        let Some(given) = &mut self.given else {
            return Ok(None);
        };
        let Some(tensor) = given.remove(name) else {
            candle_core::bail!("saved weights lack {name}");
        };
        if tensor.dims() != shape {
            candle_core::bail!(
                "{name}: saved shape {:?}, model shape {shape:?}",
                tensor.dims()
            );
        }
        let tensor = tensor
            .to_dtype(DType::F32)?
            .to_device(&self.device)?
            .detach();
        if self
            .frozen
            .insert(name.to_string(), tensor.clone())
            .is_some()
        {
            candle_core::bail!("parameter {name} defined twice");
        }
        Ok(Some(tensor))
    }

    /// The device the parameters live on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    fn insert(&mut self, name: &str, values: Vec<f32>, shape: &[usize]) -> Result<Tensor> {
        let var = Var::from_tensor(&Tensor::from_vec(values, shape, &self.device)?)?;
        let tensor = var.as_tensor().clone();
        if self.vars.insert(name.to_string(), var).is_some() {
            candle_core::bail!("parameter {name} defined twice");
        }
        Ok(tensor)
    }

    /// A parameter drawn uniformly from `[-bound, bound]`.
    pub fn uniform(&mut self, name: &str, shape: &[usize], bound: f64) -> Result<Tensor> {
        if let Some(given) = self.take_given(name, shape)? {
            return Ok(given);
        }
        let count = shape.iter().product();
        let values = (0..count)
            .map(|_| self.rng.random_range(-bound..=bound) as f32)
            .collect();
        self.insert(name, values, shape)
    }

    /// A parameter drawn from a normal distribution with mean 0.
    pub fn normal(&mut self, name: &str, shape: &[usize], std: f64) -> Result<Tensor> {
        if let Some(given) = self.take_given(name, shape)? {
            return Ok(given);
        }
        let normal =
            Normal::new(0.0, std).map_err(|err| candle_core::Error::Msg(err.to_string()))?;
        let count = shape.iter().product();
        let values = (0..count)
            .map(|_| normal.sample(&mut self.rng) as f32)
            .collect();
        self.insert(name, values, shape)
    }

    /// A parameter of zeros.
    pub fn zeros(&mut self, name: &str, shape: &[usize]) -> Result<Tensor> {
        if let Some(given) = self.take_given(name, shape)? {
            return Ok(given);
        }
        self.insert(name, vec![0.0; shape.iter().product()], shape)
    }

    /// A parameter of ones.
    pub fn ones(&mut self, name: &str, shape: &[usize]) -> Result<Tensor> {
        if let Some(given) = self.take_given(name, shape)? {
            return Ok(given);
        }
        self.insert(name, vec![1.0; shape.iter().product()], shape)
    }

    /// Every parameter with its name, for the optimizer.
    pub fn named_vars(&self) -> Vec<(String, Var)> {
        self.vars
            .iter()
            .map(|(name, var)| (name.clone(), var.clone()))
            .collect()
    }

    /// Every parameter's current value by name, for saving.
    pub fn tensors(&self) -> HashMap<String, Tensor> {
        self.vars
            .iter()
            .map(|(name, var)| (name.clone(), var.as_tensor().clone()))
            .chain(
                self.frozen
                    .iter()
                    .map(|(name, t)| (name.clone(), t.clone())),
            )
            .collect()
    }

    /// Number of scalar parameters.
    pub fn count(&self) -> usize {
        self.vars
            .values()
            .map(|var| var.elem_count())
            .sum::<usize>()
            + self.frozen.values().map(Tensor::elem_count).sum::<usize>()
    }

    /// Overwrites every parameter from `saved` except those whose names start with
    /// `fresh` (a new head), which keep their initial values; saved weights this model
    /// lacks are ignored (a pretraining head). Returns how many parameters were set.
    pub fn load_pretrained(&self, saved: &HashMap<String, Tensor>, fresh: &str) -> Result<usize> {
        if !self.frozen.is_empty() {
            candle_core::bail!("a frozen (inference) store cannot load other weights");
        }
        let mut set = 0;
        for (name, var) in self
            .vars
            .iter()
            .filter(|(name, _)| !name.starts_with(fresh))
        {
            let Some(value) = saved.get(name) else {
                candle_core::bail!("the pretrained weights lack {name}");
            };
            if value.shape() != var.shape() {
                candle_core::bail!(
                    "{name}: pretrained shape {:?}, model shape {:?}",
                    value.shape(),
                    var.shape()
                );
            }
            var.set(&value.to_dtype(DType::F32)?.to_device(&self.device)?)?;
            set += 1;
        }
        Ok(set)
    }

    /// Overwrites every parameter with saved values; names and shapes must match exactly.
    pub fn load(&self, saved: &HashMap<String, Tensor>) -> Result<()> {
        if !self.frozen.is_empty() {
            candle_core::bail!("a frozen (inference) store cannot load other weights");
        }
        if let Some(extra) = saved.keys().find(|name| !self.vars.contains_key(*name)) {
            candle_core::bail!("saved weights have {extra}, which this model does not");
        }
        for (name, var) in &self.vars {
            let Some(value) = saved.get(name) else {
                candle_core::bail!("saved weights lack {name}");
            };
            if value.shape() != var.shape() {
                candle_core::bail!(
                    "{name}: saved shape {:?}, model shape {:?}",
                    value.shape(),
                    var.shape()
                );
            }
            var.set(&value.to_dtype(DType::F32)?.to_device(&self.device)?)?;
        }
        Ok(())
    }
}

impl dnalm_run::Parameters for ParamStore {
    fn named_vars(&self) -> Vec<(String, Var)> {
        ParamStore::named_vars(self)
    }

    fn weights(&self) -> HashMap<String, Tensor> {
        self.tensors()
    }

    fn load_weights(&self, weights: &HashMap<String, Tensor>) -> Result<()> {
        self.load(weights)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_and_checked_on_load() {
        let make = |seed| {
            let mut store = ParamStore::new(seed, &Device::Cpu);
            store.uniform("a.weight", &[3, 2], 0.5).unwrap();
            store.normal("b.weight", &[4], 1.0).unwrap();
            store
        };
        let (one, same, other) = (make(1), make(1), make(2));
        let values = |s: &ParamStore| {
            s.tensors()["a.weight"]
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap()
        };
        assert_eq!(values(&one), values(&same));
        assert_ne!(values(&one), values(&other));
        assert!(values(&one).iter().all(|v| v.abs() <= 0.5));
        other.load(&one.tensors()).unwrap();
        assert_eq!(values(&other), values(&one));
        let mut wrong = one.tensors();
        wrong.insert(
            "b.weight".into(),
            Tensor::zeros(5, DType::F32, &Device::Cpu).unwrap(),
        );
        assert!(other.load(&wrong).is_err());
        assert_eq!(one.count(), 10);
    }

    #[test]
    fn a_frozen_store_hands_out_the_given_weights_and_refuses_the_rest() {
        let device = Device::Cpu;
        let a = Tensor::new(&[[1.0f32, 2.0], [3.0, 4.0]], &device).unwrap();
        let b = Tensor::new(&[0.5f32, 0.25], &device).unwrap();
        let given = HashMap::from([("a".to_string(), a.clone()), ("b".to_string(), b)]);
        let mut store = ParamStore::frozen(given.clone(), &device);
        let taken = store.normal("a", &[2, 2], 1.0).unwrap();
        assert_eq!(taken.to_vec2::<f32>().unwrap(), a.to_vec2::<f32>().unwrap());
        assert!(!taken.is_variable() && store.named_vars().is_empty());
        assert!(store.finish().unwrap_err().to_string().contains("have b"));
        store.ones("b", &[2]).unwrap();
        store.finish().unwrap();
        assert_eq!(store.count(), 6);
        assert!(store.load(&given).is_err());
        let mut wrong = ParamStore::frozen(given.clone(), &device);
        let err = wrong.zeros("a", &[4]).unwrap_err().to_string();
        assert!(
            err.contains("a: saved shape [2, 2], model shape [4]"),
            "{err}"
        );
        let err = wrong.zeros("c", &[1]).unwrap_err().to_string();
        assert!(err.contains("lack c"), "{err}");
    }
}
