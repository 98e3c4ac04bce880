//! A bounded, sharded map for minted leaves.
//!
//! A hit takes one shard's read lock and sets a flag with a relaxed store, so
//! concurrent handshakes for cached hosts never wait on each other. Eviction
//! runs only on insert (right after a mint, which costs far more) and uses the
//! CLOCK rule: entries used since the last sweep get a second chance, so hot
//! hosts stay while one-off hosts go first.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{PoisonError, RwLock};

const SHARDS: usize = 16;

type Shard<V> = RwLock<HashMap<Box<str>, Slot<V>>>;

/// A bounded map from names to shared values.
pub(crate) struct Cache<V> {
    shards: Box<[Shard<V>]>,
    per_shard: usize,
    hasher: RandomState,
}

struct Slot<V> {
    value: V,
    used: AtomicBool,
}

impl<V: Clone> Cache<V> {
    /// A cache holding about `capacity` entries (at least one per shard).
    pub(crate) fn new(capacity: usize) -> Self {
        let per_shard = capacity.div_ceil(SHARDS).max(1);
        let shards = (0..SHARDS).map(|_| RwLock::new(HashMap::with_capacity(per_shard))).collect();
        Self { shards, per_shard, hasher: RandomState::new() }
    }

    fn shard(&self, key: &str) -> &Shard<V> {
        // The modulo keeps the index in range, so the cast cannot truncate meaningfully.
        &self.shards[(self.hasher.hash_one(key) as usize) % SHARDS]
    }

    /// The value for `key`, marking it recently used.
    pub(crate) fn get(&self, key: &str) -> Option<V> {
        // A poisoned lock only means another thread panicked mid-insert; the
        // map itself is still consistent, so keep serving from it.
        let map = self.shard(key).read().unwrap_or_else(PoisonError::into_inner);
        let slot = map.get(key)?;
        slot.used.store(true, Ordering::Relaxed);
        Some(slot.value.clone())
    }

    /// Store `value` under `key`, evicting a not-recently-used entry when the shard is full.
    pub(crate) fn insert(&self, key: &str, value: V) {
        let mut map = self.shard(key).write().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= self.per_shard && !map.contains_key(key) {
            evict_one(&mut map);
        }
        map.insert(key.into(), Slot { value, used: AtomicBool::new(false) });
    }

    /// Number of entries.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|shard| shard.read().unwrap_or_else(PoisonError::into_inner).len()).sum()
    }
}

/// Remove the first entry not used since the last sweep, clearing the flags
/// it passes; if every entry was used, the first one seen goes.
fn evict_one<V>(map: &mut HashMap<Box<str>, Slot<V>>) {
    let victim = map
        .iter()
        .find(|(_, slot)| !slot.used.swap(false, Ordering::Relaxed))
        .or_else(|| map.iter().next())
        .map(|(key, _)| key.clone());
    if let Some(key) = victim {
        map.remove(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_what_was_inserted() {
        let cache = Cache::new(64);
        cache.insert("api.openai.com", 1);
        assert_eq!(cache.get("api.openai.com"), Some(1));
        assert_eq!(cache.get("chatgpt.com"), None);
    }

    #[test]
    fn never_grows_past_its_bound() {
        let cache = Cache::new(SHARDS * 2);
        for i in 0..1000 {
            cache.insert(&format!("host{i}.example"), i);
        }
        assert!(cache.len() <= SHARDS * 2, "{}", cache.len());
    }

    #[test]
    fn recently_used_entries_survive_eviction() {
        let mut map = HashMap::new();
        for key in ["hot", "cold"] {
            map.insert(Box::<str>::from(key), Slot { value: (), used: AtomicBool::new(false) });
        }
        map["hot"].used.store(true, Ordering::Relaxed);
        evict_one(&mut map);
        assert!(map.contains_key("hot"));
        assert!(!map.contains_key("cold"));
    }

    #[test]
    fn reinserting_a_key_replaces_without_evicting() {
        let cache = Cache::new(1);
        cache.insert("a", 1);
        cache.insert("a", 2);
        assert_eq!(cache.get("a"), Some(2));
    }
}
