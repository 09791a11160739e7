//! The kernel cache: compiled kernels by (expression text, signature,
//! options), least recently used evicted first, shared by all threads.
//! Compiling an expression again is a hash lookup and an `Arc` clone.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use crate::kernel::{Kernel, Options};
use crate::vars::Signature;

/// How many kernels the cache keeps.
pub const CAPACITY: usize = 256;

type Key = (String, Signature, Options);

struct Lru {
    map: HashMap<Key, (Kernel, u64)>,
    clock: u64,
}

fn cache() -> &'static Mutex<Lru> {
    static CACHE: OnceLock<Mutex<Lru>> = OnceLock::new();
    CACHE.get_or_init(|| {
        Mutex::new(Lru {
            map: HashMap::new(),
            clock: 0,
        })
    })
}

/// The cached kernel for this compilation, if any (and marks it used).
pub fn get(expr: &str, signature: &Signature, options: Options) -> Option<Kernel> {
    let mut lru = cache().lock().unwrap_or_else(|e| e.into_inner());
    lru.clock += 1;
    let now = lru.clock;
    let key = (expr.to_string(), signature.clone(), options);
    let entry = lru.map.get_mut(&key)?;
    entry.1 = now;
    Some(entry.0.clone())
}

/// Remembers a kernel, evicting the least recently used one when full.
pub fn put(expr: &str, signature: &Signature, options: Options, kernel: &Kernel) {
    let mut lru = cache().lock().unwrap_or_else(|e| e.into_inner());
    lru.clock += 1;
    let now = lru.clock;
    if lru.map.len() >= CAPACITY {
        let oldest = lru
            .map
            .iter()
            .min_by_key(|(_, (_, t))| *t)
            .map(|(k, _)| k.clone());
        if let Some(k) = oldest {
            lru.map.remove(&k);
        }
    }
    lru.map.insert(
        (expr.to_string(), signature.clone(), options),
        (kernel.clone(), now),
    );
}

/// Number of cached kernels.
pub fn len() -> usize {
    cache().lock().unwrap_or_else(|e| e.into_inner()).map.len()
}

/// Empties the cache.
pub fn clear() {
    cache()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .map
        .clear();
}
