//! The kernel cache: compiled kernels by (expression text, signature,
//! options), least recently used evicted first, shared by all threads.
//! Compiling an expression again is a hash lookup and an `Arc` clone: the
//! lookup hashes the borrowed text and names, so a hit allocates nothing.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Mutex, OnceLock};

use crate::kernel::{Kernel, Options};
use crate::types::DType;
use crate::vars::{Signature, Vars};

/// How many kernels the cache keeps.
pub const CAPACITY: usize = 256;

struct Entry {
    expr: String,
    signature: Signature,
    options: Options,
    kernel: Kernel,
    used: u64,
}

#[derive(Default)]
struct Lru {
    /// Entries by the hash of their key (see [`key_hash`]).
    map: HashMap<u64, Vec<Entry>>,
    clock: u64,
}

impl Lru {
    fn len(&self) -> usize {
        self.map.values().map(Vec::len).sum()
    }
}

fn cache() -> &'static Mutex<Lru> {
    static CACHE: OnceLock<Mutex<Lru>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(Lru::default()))
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

fn lookup<'n, I>(expr: &str, inputs: impl Fn() -> I, options: Options) -> Option<Kernel>
where
    I: Iterator<Item = (&'n str, DType)>,
{
    let hash = key_hash(expr, inputs(), options);
    let mut lru = cache().lock().unwrap_or_else(|e| e.into_inner());
    lru.clock += 1;
    let now = lru.clock;
    let entry =
        lru.map.get_mut(&hash)?.iter_mut().find(|e| {
            e.expr == expr && e.options == options && same_inputs(&e.signature, inputs())
        })?;
    entry.used = now;
    Some(entry.kernel.clone())
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

/// The cached kernel for this compilation, if any (and marks it used).
pub fn get(expr: &str, signature: &Signature, options: Options) -> Option<Kernel> {
    lookup(expr, || signature.iter(), options)
}

/// [`get`] for the signature of `vars` (`Signature::of(vars)`), without building it.
pub fn get_for(expr: &str, vars: &Vars<'_>, options: Options) -> Option<Kernel> {
    lookup(expr, || vars.iter().map(|(n, v)| (n, v.dtype())), options)
}

/// Remembers a kernel, evicting the least recently used one when full.
pub fn put(expr: &str, signature: &Signature, options: Options, kernel: &Kernel) {
    let hash = key_hash(expr, signature.iter(), options);
    let mut lru = cache().lock().unwrap_or_else(|e| e.into_inner());
    lru.clock += 1;
    let used = lru.clock;
    if let Some(bucket) = lru.map.get_mut(&hash)
        && let Some(e) = bucket
            .iter_mut()
            .find(|e| e.expr == expr && e.options == options && e.signature == *signature)
    {
        e.kernel = kernel.clone();
        e.used = used;
        return;
    }
    if lru.len() >= CAPACITY {
        let oldest = lru
            .map
            .iter()
            .flat_map(|(&h, bucket)| bucket.iter().enumerate().map(move |(i, e)| (e.used, h, i)))
            .min();
        if let Some((_, h, i)) = oldest
            && let Some(bucket) = lru.map.get_mut(&h)
        {
            bucket.swap_remove(i);
            if bucket.is_empty() {
                lru.map.remove(&h);
            }
        }
    }
    lru.map.entry(hash).or_default().push(Entry {
        expr: expr.to_string(),
        signature: signature.clone(),
        options,
        kernel: kernel.clone(),
        used,
    });
}

/// Number of cached kernels.
pub fn len() -> usize {
    cache().lock().unwrap_or_else(|e| e.into_inner()).len()
}

/// Empties the cache.
pub fn clear() {
    cache()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .map
        .clear();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Vars;

    fn kernel(expr: &str, sig: &Signature) -> Kernel {
        crate::kernel::compile_uncached_for_tests(expr, sig)
    }

    #[test]
    fn lookups_by_signature_or_vars_agree() {
        let (a, b) = (ndarray::arr1(&[1.0f64]), ndarray::arr1(&[1.0f32]));
        let sig = Signature::new()
            .with("a", DType::Float64)
            .with("b", DType::Float32);
        let expr = "a + b + 0.25 # cache test";
        let opts = Options::default();
        assert!(get(expr, &sig, opts).is_none());
        put(expr, &sig, opts, &kernel("a + b + 0.25", &sig));
        assert!(get(expr, &sig, opts).is_some());
        let vars = Vars::new().with("a", &a).with("b", &b);
        assert!(get_for(expr, &vars, opts).is_some());
        // Another order, another dtype, other options or text: misses.
        let swapped = Vars::new().with("b", &b).with("a", &a);
        assert!(get_for(expr, &swapped, opts).is_none());
        let retyped = Vars::new().with("a", &a).with("b", &a);
        assert!(get_for(expr, &retyped, opts).is_none());
        let interp = Options::with_backend(crate::Backend::Interpreter);
        assert!(get_for(expr, &vars, interp).is_none());
        assert!(get_for("a + b", &vars, opts).is_none());
    }

    #[test]
    fn the_least_recently_used_kernel_goes_first() {
        let sig = Signature::new().with("x", DType::Float64);
        let k = kernel("x", &sig);
        let opts = Options::default();
        let name = |i: usize| format!("x # lru {i}");
        // A full cache of these (older entries of other tests evicted), then
        // the first one used again, then one more.
        for i in 0..CAPACITY {
            put(&name(i), &sig, opts, &k);
        }
        assert!(get(&name(0), &sig, opts).is_some());
        put(&name(CAPACITY), &sig, opts, &k);
        assert!(len() <= CAPACITY);
        assert!(get(&name(1), &sig, opts).is_none(), "oldest evicted");
        assert!(get(&name(0), &sig, opts).is_some(), "used again, kept");
        assert!(get(&name(CAPACITY), &sig, opts).is_some(), "newest kept");
    }
}
