//! The named inputs of an evaluation ([`Vars`]) and of a compilation ([`Signature`]).

use crate::array::ArrayView;
use crate::types::DType;

/// Variables by name: the arrays an expression reads.
///
/// ```
/// use ndarray::array;
/// let a = array![1.0, 2.0];
/// let b = array![[1i32], [2]];
/// let vars = jitexpr::Vars::new().with("a", &a).with("b", &b);
/// assert_eq!(vars.len(), 2);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Vars<'a> {
    entries: Vec<(String, ArrayView<'a>)>,
}

impl<'a> Vars<'a> {
    /// No variables.
    pub fn new() -> Vars<'a> {
        Vars::default()
    }

    /// Adds (or replaces) the variable `name`.
    pub fn with(mut self, name: &str, value: impl Into<ArrayView<'a>>) -> Vars<'a> {
        self.insert(name, value);
        self
    }

    /// Adds (or replaces) the variable `name`.
    pub fn insert(&mut self, name: &str, value: impl Into<ArrayView<'a>>) {
        let value = value.into();
        match self.entries.iter_mut().find(|(n, _)| n == name) {
            Some(entry) => entry.1 = value,
            None => self.entries.push((name.to_string(), value)),
        }
    }

    /// The variable `name`.
    pub fn get(&self, name: &str) -> Option<&ArrayView<'a>> {
        self.entries.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// Number of variables.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// `true` if there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Names and values, in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ArrayView<'a>)> {
        self.entries.iter().map(|(n, v)| (n.as_str(), v))
    }
}

impl<'a, S: AsRef<str>, V: Into<ArrayView<'a>>> FromIterator<(S, V)> for Vars<'a> {
    fn from_iter<I: IntoIterator<Item = (S, V)>>(iter: I) -> Vars<'a> {
        let mut vars = Vars::new();
        for (name, value) in iter {
            vars.insert(name.as_ref(), value);
        }
        vars
    }
}

/// The dtypes of the variables a kernel is compiled for.
///
/// ```
/// use jitexpr::{DType, Signature};
/// let sig = Signature::new().with("a", DType::Float64).with("n", DType::Int32);
/// assert_eq!(sig.dtype("n"), Some(DType::Int32));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Signature {
    inputs: Vec<(String, DType)>,
}

impl Signature {
    /// No variables.
    pub fn new() -> Signature {
        Signature::default()
    }

    /// Adds (or replaces) the variable `name` of `dtype`.
    pub fn with(mut self, name: &str, dtype: DType) -> Signature {
        match self.inputs.iter_mut().find(|(n, _)| n == name) {
            Some(entry) => entry.1 = dtype,
            None => self.inputs.push((name.to_string(), dtype)),
        }
        self
    }

    /// The signature of these variables.
    pub fn of(vars: &Vars<'_>) -> Signature {
        vars.iter()
            .fold(Signature::new(), |s, (n, v)| s.with(n, v.dtype()))
    }

    /// The dtype of `name`.
    pub fn dtype(&self, name: &str) -> Option<DType> {
        self.inputs.iter().find(|(n, _)| n == name).map(|(_, d)| *d)
    }

    /// Names and dtypes, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, DType)> {
        self.inputs.iter().map(|(n, d)| (n.as_str(), *d))
    }
}

/// The inputs of one evaluation as the executor finds them: by name in a
/// [`Vars`], or by position in the order of the kernel's signature (no name
/// lookups; see [`Kernel::eval_positional`](crate::Kernel::eval_positional)).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Bind<'v, 'a> {
    /// By name.
    Named(&'v Vars<'a>),
    /// By position: input `i` of the signature is element `i`.
    Positional(&'v [ArrayView<'a>]),
}

impl<'v, 'a> Bind<'v, 'a> {
    /// Input `index` of the signature, named `name`.
    pub(crate) fn get(self, index: usize, name: &str) -> Option<&'v ArrayView<'a>> {
        match self {
            Bind::Named(vars) => vars.get(name),
            Bind::Positional(values) => values.get(index),
        }
    }
}
