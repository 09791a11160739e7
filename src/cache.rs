//! The kernel cache: values (compiled kernels) by (expression text,
//! signature, options), least recently used evicted first. `kernel.rs` keeps
//! one [`Cache`] for the process, shared by all threads; compiling an
//! expression again is a hash lookup and an `Arc` clone: the lookup hashes
//! the borrowed text and names, so a hit allocates nothing. Generic over the
//! value so that the cache does not depend on what it stores.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use crate::options::Options;
use crate::types::DType;
use crate::vars::{Signature, Vars};

/// How many values a cache keeps.
pub(crate) const CAPACITY: usize = 256;

struct Entry<V> {
    expr: String,
    signature: Signature,
    options: Options,
    value: V,
    used: u64,
}

/// Values by key, least recently used evicted first beyond [`CAPACITY`].
pub(crate) struct Cache<V> {
    /// Entries by the hash of their key (see [`key_hash`]).
    map: HashMap<u64, Vec<Entry<V>>>,
    clock: u64,
}

impl<V> Default for Cache<V> {
    fn default() -> Self {
        Cache {
            map: HashMap::new(),
            clock: 0,
        }
    }
}

/// FNV-1a: keys are short (an expression and a few names), and hashing
/// them is most of a cache hit's cost; SipHash's flood resistance buys
/// nothing for a process-local cache.
struct Fnv(u64);

impl Hasher for Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// The hash of a key given as borrowed parts (names and dtypes in order).
fn key_hash<'n>(
    expr: &str,
    inputs: impl Iterator<Item = (&'n str, DType)>,
    options: Options,
) -> u64 {
    let mut h = Fnv(0xcbf2_9ce4_8422_2325);
    expr.hash(&mut h);
    for (name, dtype) in inputs {
        name.hash(&mut h);
        dtype.hash(&mut h);
    }
    options.hash(&mut h);
    h.finish()
}

impl<V: Clone> Cache<V> {
    /// Number of cached values.
    pub(crate) fn len(&self) -> usize {
        self.map.values().map(Vec::len).sum()
    }

    /// Empties the cache (`jitexpr bench` measures first calls so).
    #[cfg(any(test, feature = "cli"))]
    pub(crate) fn clear(&mut self) {
        self.map.clear();
    }

    fn lookup<'n, I>(&mut self, expr: &str, inputs: impl Fn() -> I, options: Options) -> Option<V>
    where
        I: Iterator<Item = (&'n str, DType)>,
    {
        let hash = key_hash(expr, inputs(), options);
        self.clock += 1;
        let now = self.clock;
        let entry = self.map.get_mut(&hash)?.iter_mut().find(|e| {
            e.expr == expr && e.options == options && same_inputs(&e.signature, inputs())
        })?;
        entry.used = now;
        Some(entry.value.clone())
    }

    /// The cached value for this compilation, if any (and marks it used).
    pub(crate) fn get(&mut self, expr: &str, signature: &Signature, options: Options) -> Option<V> {
        self.lookup(expr, || signature.iter(), options)
    }

    /// [`Cache::get`] for the signature of `vars` (`Signature::of(vars)`),
    /// without building it.
    pub(crate) fn get_for(&mut self, expr: &str, vars: &Vars<'_>, options: Options) -> Option<V> {
        self.lookup(expr, || vars.iter().map(|(n, v)| (n, v.dtype())), options)
    }

    /// Remembers a value, evicting the least recently used one when full.
    pub(crate) fn put(&mut self, expr: &str, signature: &Signature, options: Options, value: &V) {
        let hash = key_hash(expr, signature.iter(), options);
        self.clock += 1;
        let used = self.clock;
        if let Some(bucket) = self.map.get_mut(&hash)
            && let Some(e) = bucket
                .iter_mut()
                .find(|e| e.expr == expr && e.options == options && e.signature == *signature)
        {
            e.value = value.clone();
            e.used = used;
            return;
        }
        if self.len() >= CAPACITY {
            let oldest = self
                .map
                .iter()
                .flat_map(|(&h, bucket)| {
                    bucket.iter().enumerate().map(move |(i, e)| (e.used, h, i))
                })
                .min();
            if let Some((_, h, i)) = oldest
                && let Some(bucket) = self.map.get_mut(&h)
            {
                bucket.swap_remove(i);
                if bucket.is_empty() {
                    self.map.remove(&h);
                }
            }
        }
        self.map.entry(hash).or_default().push(Entry {
            expr: expr.to_string(),
            signature: signature.clone(),
            options,
            value: value.clone(),
            used,
        });
    }
}

/// Whether `signature` lists exactly `inputs`, in order.
fn same_inputs<'n>(
    signature: &Signature,
    mut inputs: impl Iterator<Item = (&'n str, DType)>,
) -> bool {
    let mut listed = signature.iter();
    loop {
        match (listed.next(), inputs.next()) {
            (None, None) => return true,
            (Some((a, da)), Some((b, db))) if a == b && da == db => {}
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_by_signature_or_vars_agree() {
        let mut cache = Cache::<u32>::default();
        let (a, b) = (ndarray::arr1(&[1.0f64]), ndarray::arr1(&[1.0f32]));
        let sig = Signature::new()
            .with("a", DType::Float64)
            .with("b", DType::Float32);
        let expr = "a + b + 0.25";
        let opts = Options::default();
        assert!(cache.get(expr, &sig, opts).is_none());
        cache.put(expr, &sig, opts, &7);
        assert_eq!(cache.get(expr, &sig, opts), Some(7));
        let vars = Vars::new().with("a", &a).with("b", &b);
        assert_eq!(cache.get_for(expr, &vars, opts), Some(7));
        // Another order, another dtype, other options or text: misses.
        let swapped = Vars::new().with("b", &b).with("a", &a);
        assert!(cache.get_for(expr, &swapped, opts).is_none());
        let retyped = Vars::new().with("a", &a).with("b", &a);
        assert!(cache.get_for(expr, &retyped, opts).is_none());
        let interp = Options::with_backend(crate::Backend::Interpreter);
        assert!(cache.get_for(expr, &vars, interp).is_none());
        assert!(cache.get_for("a + b", &vars, opts).is_none());
    }

    #[test]
    fn the_least_recently_used_value_goes_first() {
        let mut cache = Cache::<usize>::default();
        let sig = Signature::new().with("x", DType::Float64);
        let opts = Options::default();
        let name = |i: usize| format!("x # lru {i}");
        // A full cache, then the first one used again, then one more.
        for i in 0..CAPACITY {
            cache.put(&name(i), &sig, opts, &i);
        }
        assert_eq!(cache.get(&name(0), &sig, opts), Some(0));
        cache.put(&name(CAPACITY), &sig, opts, &CAPACITY);
        assert_eq!(cache.len(), CAPACITY);
        assert!(cache.get(&name(1), &sig, opts).is_none(), "oldest evicted");
        assert_eq!(cache.get(&name(0), &sig, opts), Some(0), "used again, kept");
        assert!(
            cache.get(&name(CAPACITY), &sig, opts).is_some(),
            "newest kept"
        );
        cache.clear();
        assert_eq!(cache.len(), 0);
    }
}
